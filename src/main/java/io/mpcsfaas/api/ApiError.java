package io.mpcsfaas.api;

/** A request the API refuses, with the HTTP status and the message the client sees. */
final class ApiError extends RuntimeException {
  final int status;

  ApiError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }
}
