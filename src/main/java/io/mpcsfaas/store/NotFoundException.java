package io.mpcsfaas.store;

/** A function or task id that Redis does not know. */
public final class NotFoundException extends RuntimeException {
  public NotFoundException(String what) {
    super(what, null, false, false);
  }
}
