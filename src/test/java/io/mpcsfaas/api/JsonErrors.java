package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/** The API's refusals: a JSON {@code {"error": "..."}} body with the expected status. */
final class JsonErrors {
  private JsonErrors() {}

  static void assertError(int status, HttpResponse<Buffer> response) {
    assertError("", status, response);
  }

  /** {@code what} names the request in the failure message. */
  static void assertError(String what, int status, HttpResponse<Buffer> response) {
    String body = response.bodyAsString();
    assertEquals(status, response.statusCode(), what + ": " + body);
    String type = response.getHeader("content-type");
    assertTrue(type != null && type.startsWith("application/json"), what + ": content-type " + type);
    JsonObject json = assertInstanceOf(JsonObject.class, Buffer.buffer(body).toJsonValue(), what + ": " + body);
    assertInstanceOf(String.class, json.getValue("error"), what + ": " + body);
    assertFalse(json.getString("error").isBlank(), what + ": " + body);
  }
}
