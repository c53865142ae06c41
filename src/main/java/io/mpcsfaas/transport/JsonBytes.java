package io.mpcsfaas.transport;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Parses a message's JSON from its bytes. A string without escapes or non-ASCII bytes (base64 above all: a
 * task's arguments, a result) becomes a String straight from the bytes, one byte per character, while Jackson
 * skips it unread: read the usual way, an 85 MiB base64 string became 170 MiB of char buffers, a 170 MiB char
 * array and a String on top of the message, which a 64 MiB argument did not survive in the default heap
 * (docs/payloads.md). Other strings are read as Jackson reads them.
 */
public final class JsonBytes {
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE)
          .maxDocumentLength(-1).build())
      .build();

  private JsonBytes() {}

  /** The JSON object in {@code bytes}; DecodeException when they hold none. */
  public static JsonObject object(byte[] bytes) {
    try (JsonParser parser = JSON.createParser(bytes)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new DecodeException("not a JSON object");
      }
      JsonObject object = readObject(parser, bytes);
      if (parser.nextToken() != null) {
        throw new DecodeException("more than one JSON value");
      }
      return object;
    } catch (IOException e) {
      throw new DecodeException("not JSON: " + e.getMessage());
    }
  }

  private static JsonObject readObject(JsonParser parser, byte[] bytes) throws IOException {
    JsonObject object = new JsonObject();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      object.put(name, readValue(parser, bytes));
    }
    return object;
  }

  private static Object readValue(JsonParser parser, byte[] bytes) throws IOException {
    JsonToken token = parser.currentToken();
    switch (token) {
      case START_OBJECT:
        return readObject(parser, bytes);
      case START_ARRAY:
        JsonArray array = new JsonArray();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          array.add(readValue(parser, bytes));
        }
        return array;
      case VALUE_STRING:
        return string(parser, bytes);
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return token == JsonToken.VALUE_NUMBER_INT ? parser.getNumberValue() : (Object) parser.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new DecodeException("unexpected " + token);
    }
  }

  /** The string the parser is at: from the bytes when they are plain ASCII without escapes, else Jackson's. */
  private static String string(JsonParser parser, byte[] bytes) throws IOException {
    long quote = parser.currentTokenLocation().getByteOffset();
    if (quote >= 0 && quote < bytes.length && bytes[(int) quote] == '"') {
      int start = (int) quote + 1;
      int end = start;
      while (end < bytes.length && bytes[end] != '"' && bytes[end] != '\\' && bytes[end] >= 0x20) {
        end++;
      }
      if (end < bytes.length && bytes[end] == '"') {
        return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1); // Jackson skips it unread
      }
    }
    return parser.getText();
  }
}
