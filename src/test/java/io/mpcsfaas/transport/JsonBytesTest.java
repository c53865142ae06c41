package io.mpcsfaas.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JsonBytesTest {
  private static byte[] array(ByteBuffer buffer) {
    return Arrays.copyOfRange(buffer.array(), buffer.position(), buffer.limit());
  }

  @Test
  void aMessageReadsBackAsVertxReadsIt() {
    JsonObject message = new JsonObject().put("v", 1).put("type", "task").put("args", "gASVAAAA+/==")
        .put("escaped", "a \"quoted\" line\nand a tab\t").put("unicode", "é ü ✓").put("big", 1L << 40)
        .put("ratio", 0.25).put("ok", true).put("none", (Object) null)
        .put("nested", new JsonObject().put("list", new JsonArray().add("x").add(2).add(new JsonObject())));
    byte[] bytes = array(JsonBytes.bytes(message));
    assertEquals(message, new JsonObject(new String(bytes, StandardCharsets.UTF_8)), "written as Vert.x reads it");
    assertEquals(message, JsonBytes.object(bytes), "read as Vert.x would");
    assertEquals(message.encode(), new String(bytes, StandardCharsets.UTF_8), "the same text as Vert.x writes");
    ByteBuffer buffer = JsonBytes.bytes(message);
    assertEquals(buffer.remaining(), buffer.capacity(), "no room past the JSON: JeroMQ would send it");
  }

  @Test
  void aLongBase64StringComesBackUnchanged() {
    String base64 = "QUJD".repeat(300_000);
    JsonObject read = JsonBytes.object(array(JsonBytes.bytes(new JsonObject().put("result", base64))));
    assertEquals(base64, read.getString("result"));
  }

  @Test
  void whatIsNoJsonObjectIsADecodeException() {
    for (String text : new String[] {"[1]", "\"x\"", "{\"a\":", "{} {}", "{\"a\":\"unterminated}", ""}) {
      assertThrows(DecodeException.class, () -> JsonBytes.object(text.getBytes(StandardCharsets.UTF_8)), text);
    }
  }
}
