package io.mpcsfaas.api;

/** A request the API refuses, with the HTTP status and the message the client sees. */
final class ApiError extends RuntimeException {
  final int status;
  /** Whether the answer tells the client when to try again ({@code Retry-After}). */
  final boolean retryLater;

  ApiError(int status, String message) {
    this(status, message, false);
  }

  private ApiError(int status, String message, boolean retryLater) {
    super(message, null, false, false);
    this.status = status;
    this.retryLater = retryLater;
  }

  /** A refusal the client is told to send again after {@link ApiVerticle#RETRY_AFTER_SECONDS}. */
  static ApiError retryLater(int status, String message) {
    return new ApiError(status, message, true);
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }
}
