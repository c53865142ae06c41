package io.mpcsfaas.store;

/** A submit refused because its tenant has as many tasks in flight as the caller's key allows. */
public final class LimitReachedException extends RuntimeException {
  public LimitReachedException(String message) {
    super(message, null, false, false);
  }
}
