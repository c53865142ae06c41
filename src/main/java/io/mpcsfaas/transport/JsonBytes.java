package io.mpcsfaas.transport;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
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

  /**
   * The JSON text of {@code message}, written by Jackson into one array sized ahead from its strings: a Vert.x
   * Buffer grew by copies and was then copied again to bytes, so that an 85 MiB argument was held three times at
   * once on its way out (the dispatcher ran out of heap there in push mode). The buffer's capacity is the JSON's
   * length: JeroMQ sends a message over 8 KiB as its buffer up to the capacity, and the bytes past the JSON
   * corrupted the stream, so that nothing after such a message reached its peer.
   */
  public static ByteBuffer bytes(JsonObject message) {
    Sink sink = new Sink(estimate(message));
    try (JsonGenerator generator = JSON.createGenerator(sink)) {
      write(generator, message);
    } catch (IOException e) {
      throw new IllegalStateException("writing JSON to memory failed", e); // a Sink never throws
    }
    return ByteBuffer.wrap(sink.buf, 0, sink.count).slice();
  }

  /** The size of the message's JSON when its strings are ASCII without escapes (base64 above all). */
  private static int estimate(JsonObject message) {
    long size = 2;
    for (var field : message) {
      size += field.getKey().length() + 4 + (field.getValue() instanceof String s ? s.length() + 2 : 24);
    }
    return (int) Math.min(size, Integer.MAX_VALUE - 16);
  }

  private static void write(JsonGenerator generator, Object value) throws IOException {
    if (value instanceof JsonObject object) {
      generator.writeStartObject();
      for (var field : object) {
        generator.writeFieldName(field.getKey());
        write(generator, field.getValue());
      }
      generator.writeEndObject();
    } else if (value instanceof JsonArray array) {
      generator.writeStartArray();
      for (Object item : array) {
        write(generator, item);
      }
      generator.writeEndArray();
    } else {
      generator.writeObject(value);
    }
  }

  /** Collects the JSON in one array, growing it by half when the estimate fell short. */
  private static final class Sink extends OutputStream {
    private byte[] buf;
    private int count;

    Sink(int capacity) {
      buf = new byte[Math.max(capacity, 64)];
    }

    @Override
    public void write(int b) {
      ensure(1);
      buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    private void ensure(int more) {
      if (count + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(count + more, buf.length + (buf.length >> 1)));
      }
    }
  }

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
