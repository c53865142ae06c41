package io.mpcsfaas.cli;

/** A command line the launcher cannot act on; its message is shown to the user with the usage. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message, null, false, false);
  }
}
