package io.mpcsfaas.store;

/**
 * A write Redis did (it may also have been lost with its master since) but fewer replicas than required
 * confirmed in time: not durable, so not to be answered as done; the caller may try again.
 */
public final class NotReplicatedException extends RuntimeException {
  public NotReplicatedException(String message) {
    super(message, null, false, false);
  }
}
