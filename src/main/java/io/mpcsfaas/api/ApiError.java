package io.mpcsfaas.api;

/** A request the API refuses, with the HTTP status and the message the client sees. */
final class ApiError extends RuntimeException {
  final int status;
  /** Whether the answer tells the client when to try again ({@code Retry-After}). */
  final boolean retryLater;
  /** Whether nothing of the request was stored, so that sending it again cannot make a second task. */
  final boolean retrySafe;

  ApiError(int status, String message) {
    this(status, message, false, false);
  }

  private ApiError(int status, String message, boolean retryLater, boolean retrySafe) {
    super(message, null, false, false);
    this.status = status;
    this.retryLater = retryLater;
    this.retrySafe = retrySafe;
  }

  /**
   * A refusal the client is told to send again after {@link ApiVerticle#RETRY_AFTER_SECONDS}, though what it
   * asked may have been done (a write too few replicas confirmed).
   */
  static ApiError retryLater(int status, String message) {
    return new ApiError(status, message, true, false);
  }

  /** A refusal made before anything was stored: the same request may be sent again after the same wait. */
  static ApiError retrySafely(int status, String message) {
    return new ApiError(status, message, true, true);
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }
}
