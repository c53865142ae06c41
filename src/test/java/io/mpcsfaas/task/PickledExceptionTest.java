package io.mpcsfaas.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The platform's own exceptions must unpickle in real Python exactly as the client expects. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PickledExceptionTest {

  @Test
  void encodedExceptionsDecodeInRealPythonWithTheirExactMessage() {
    String longMessage = "x".repeat(300) + " – done";
    List<String> encoded = List.of(
        PickledException.encode("RuntimeError", "héllo\nworld"),
        PickledException.encode("TimeoutError", "the task ran longer than its timeout of 1 s"),
        PickledException.encode("RuntimeError", longMessage),
        PickledException.encode("ValueError", "emoji \uD83D\uDE00 and quotes ' \" \\"));
    JsonArray decoded = Py.describeAll(encoded);

    assertException(decoded.getJsonObject(0), "RuntimeError", "héllo\nworld");
    assertException(decoded.getJsonObject(1), "TimeoutError", "the task ran longer than its timeout of 1 s");
    assertException(decoded.getJsonObject(2), "RuntimeError", longMessage);
    assertException(decoded.getJsonObject(3), "ValueError", "emoji \uD83D\uDE00 and quotes ' \" \\");
  }

  @Test
  void theCancelledOutcomeDecodesAsConcurrentFuturesCancelledError() {
    String script = "import base64, dill, sys, concurrent.futures as f\n"
        + "e = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        + "print(isinstance(e, f.CancelledError), str(e))\n";
    assertEquals("True cancelled by request", Py.run(script, TaskOutcome.CANCELLED.result()));
    assertEquals("CancelledError: cancelled by request", TaskOutcome.CANCELLED.error());
  }

  @Test
  void encodingIsBase64WithLineBreaksLikeCodecs() {
    String encoded = PickledException.encode("RuntimeError", "y".repeat(200));
    assertTrue(encoded.endsWith("\n"), "codecs.encode(..., 'base64') output ends with a newline");
    for (String line : encoded.split("\n")) {
      assertTrue(line.length() <= 76, "base64 lines are at most 76 characters: " + line.length());
      assertTrue(line.matches("[A-Za-z0-9+/=]+"), "only base64 characters: " + line);
    }
    assertFalse(encoded.contains("\r"));
  }

  private static void assertException(JsonObject described, String type, String message) {
    assertEquals(Boolean.TRUE, described.getBoolean("is_exception"), described.encode());
    assertEquals(type, described.getString("type"), described.encode());
    assertEquals(message, described.getString("str"), described.encode());
    assertEquals(new JsonArray().add(message), described.getJsonArray("args"), described.encode());
  }
}
