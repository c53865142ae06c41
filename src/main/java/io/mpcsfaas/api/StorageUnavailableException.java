package io.mpcsfaas.api;

/** Redis did not answer in time or refused the connection: the client may retry later (503). */
final class StorageUnavailableException extends RuntimeException {
  StorageUnavailableException(Throwable cause) {
    super("storage unavailable: " + cause.getMessage(), cause, false, false);
  }
}
