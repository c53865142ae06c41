package io.mpcsfaas.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpcsfaas.heap.HeapBudget;
import io.netty.buffer.ByteBuf;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A submit's body: the pickle itself with its fields in the query ({@link PickleBody}), or JSON, read from its
 * bytes with Jackson's streaming parser: the {@code payload} string is decoded from base64 as it is read (JSON
 * escapes and line breaks included) and never becomes Java text, and the other fields land in a small JsonObject
 * for the usual checks. Parsed the plain way, a 64 MiB pickle's 85 MiB of base64 became
 * a 170 MiB char buffer, a 170 MiB char array and an 85 MiB String on top of the body, which did not fit the
 * default heap (docs/payloads.md). The payload is stored as plain base64 (no line breaks), as results are.
 */
final class SubmitBody {
  private static final JsonFactory JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
      .build()).getFactory();
  private static final String PAYLOAD = "payload";

  /** The fields other than a payload of base64 (with the payload when it is none, or read the plain way). */
  final JsonObject fields;
  private final Sink pickle;
  private final Encoded text;

  private SubmitBody(JsonObject fields, Sink pickle, Encoded text) {
    this.fields = fields;
    this.pickle = pickle;
    this.text = text;
  }

  /** A payload as it is stored (plain base64, null when it has a problem), and what is wrong with it as a pickle. */
  private record Encoded(String base64, String problem) {}

  /** A body of {@link HeapBudget#BIG} or more, which the API parses off its event loop. */
  static boolean big(RoutingContext ctx) {
    Buffer raw = ctx.body().buffer();
    return raw != null && raw.length() >= HeapBudget.BIG;
  }

  /**
   * Parses a submit's body. A body the streaming read cannot take (not JSON, or a payload that is not base64) is
   * parsed again the plain way, so that its 400 says what {@link RequestParsing} always said.
   */
  static SubmitBody parse(RoutingContext ctx) {
    Buffer raw = ctx.body().buffer();
    if (PickleBody.sent(ctx)) {
      JsonObject fields = new JsonObject();
      MultiMap query = ctx.queryParams();
      // a field given twice counts once, with its first value, as RequestParsing reads wait
      query.names().forEach(name -> fields.put(name, PickleBody.queryValue(query.get(name))));
      return new SubmitBody(fields, null, pickleBody(raw));
    }
    if (raw != null) {
      try (JsonParser parser = JSON.createParser(stream(raw))) {
        SubmitBody body = parse(parser, raw);
        if (body != null) {
          return body;
        }
      } catch (IOException | IllegalArgumentException e) {
        // below (Jackson reports a character that is not base64 with IllegalArgumentException)
      }
    }
    return new SubmitBody(RequestParsing.jsonBody(ctx), null, null);
  }

  /** Null when the body is not a JSON object with a payload of base64. */
  private static SubmitBody parse(JsonParser parser, Buffer raw) throws IOException {
    if (parser.nextToken() != JsonToken.START_OBJECT) {
      return null;
    }
    JsonObject fields = new JsonObject();
    Sink pickle = null;
    Encoded text = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken value = parser.nextToken();
      if (PAYLOAD.equals(name) && value == JsonToken.VALUE_STRING) {
        text = plainText(raw, parser.currentTokenLocation().getByteOffset());
        pickle = null;
        if (text == null) {
          pickle = new Sink(raw.length() / 4 * 3 + 3);
          parser.readBinaryValue(pickle);
        } // else Jackson skips the string unread
        fields.remove(PAYLOAD);
      } else {
        pickle = PAYLOAD.equals(name) ? null : pickle;
        text = PAYLOAD.equals(name) ? null : text;
        fields.put(name, parser.readValueAs(Object.class));
      }
    }
    if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
      return null;
    }
    return new SubmitBody(fields, pickle, text);
  }

  /**
   * The JSON string opening at byte {@code quote} of the body, taken from the body's array in one copy, when it
   * is plain base64 (no escapes, no line breaks, as {@code b64encode} gives it): then nothing is decoded or
   * encoded again. Null otherwise (escaped line breaks, a body not in one array, not base64 at all).
   */
  private static Encoded plainText(Buffer raw, long quote) {
    ByteBuf buf = ((BufferInternal) raw).getByteBuf();
    if (!buf.hasArray() || quote < 0 || quote >= raw.length() || raw.getByte((int) quote) != '"') {
      return null;
    }
    int reader = buf.readerIndex();
    int end = buf.indexOf(reader + (int) quote + 1, reader + raw.length(), (byte) '"'); // an escaped one fails below
    if (end < 0) {
      return null;
    }
    byte[] array = buf.array();
    int start = buf.arrayOffset() + reader + (int) quote + 1;
    int stop = buf.arrayOffset() + end;
    String problem = PicklePayload.plainProblem(array, start, stop);
    return PicklePayload.NOT_BASE64.equals(problem) ? null
        : new Encoded(new String(array, start, stop - start, StandardCharsets.ISO_8859_1), problem);
  }

  /** A body that is the pickle itself, encoded as it is stored. */
  private static Encoded pickleBody(Buffer body) {
    int length = body == null ? 0 : body.length();
    if (length == 0 || PicklePayload.shapeProblem(body.getByte(0) & 0xff, length > 1 ? body.getByte(1) & 0xff : -1,
        body.getByte(length - 1) & 0xff) != null) {
      return new Encoded(null, PickleBody.NOT_PICKLE);
    }
    return new Encoded(base64(((BufferInternal) body).getByteBuf().nioBuffer()), null);
  }

  /**
   * Lets the request drop its body once parsed: a submit held by {@code ?wait=} would otherwise keep its whole
   * body until the task ends, 85 MiB for a 64 MiB pickle, beside the copies on their way to Redis and the
   * interpreter.
   */
  static void release(RoutingContext ctx) {
    if (ctx instanceof RoutingContextInternal internal) {
      internal.setBody(null);
    }
  }

  /** The payload, checked to be base64 of a pickle stream; a 400 naming the problem otherwise. */
  String pickle() {
    if (text != null) {
      if (text.problem() != null) {
        throw ApiError.badRequest(text.problem());
      }
      return text.base64();
    }
    if (pickle == null) {
      return RequestParsing.pickle(fields); // missing, not a string, or read the plain way
    }
    String problem = PicklePayload.pickleProblem(pickle.buf, pickle.count);
    if (problem != null) {
      throw ApiError.badRequest(problem);
    }
    return pickle.base64();
  }

  /** The bytes as plain base64 text, one byte per character (a Latin-1 String is not copied again). */
  private static String base64(ByteBuffer bytes) {
    ByteBuffer encoded = Base64.getEncoder().encode(bytes);
    return new String(encoded.array(), 0, encoded.limit(), StandardCharsets.ISO_8859_1);
  }

  private static InputStream stream(Buffer raw) {
    return new InputStream() {
      private int pos;

      @Override
      public int read() {
        return pos < raw.length() ? raw.getByte(pos++) & 0xff : -1;
      }

      @Override
      public int read(byte[] into, int off, int len) {
        if (pos >= raw.length()) {
          return -1;
        }
        int n = Math.min(len, raw.length() - pos);
        raw.getBytes(pos, pos + n, into, off);
        pos += n;
        return n;
      }
    };
  }

  /** Collects decoded bytes into one array sized from the body, so that it never grows. */
  private static final class Sink extends OutputStream {
    private byte[] buf;
    private int count;

    Sink(int capacity) {
      buf = new byte[capacity];
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (count + len > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + len));
      }
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    String base64() {
      return SubmitBody.base64(ByteBuffer.wrap(buf, 0, count));
    }
  }
}
