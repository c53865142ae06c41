package io.mpcsfaas.task;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Builds, without Python, the client encoding of a built-in Python exception such as
 * {@code RuntimeError("worker lost")}: a protocol-2 pickle of {@code builtins.<type>(message)}, base64-encoded
 * as {@code codecs.encode(..., "base64")} does. Used for failures the platform itself detects (a crashed
 * interpreter, a timeout, a lost worker), so that the client's {@code dill.loads} gets a real exception.
 */
public final class PickledException {
  private static final Base64.Encoder BASE64_LINES = Base64.getMimeEncoder(76, new byte[] {'\n'});

  private PickledException() {}

  public static String encode(String type, String message) {
    return encode("builtins", type, message);
  }

  /** The exception class {@code type} of {@code module} (where its pickle finds it), built with {@code message}. */
  public static String encode(String module, String type, String message) {
    ByteArrayOutputStream pickle = new ByteArrayOutputStream();
    pickle.write(0x80); // PROTO 2
    pickle.write(2);
    pickle.writeBytes(("c" + module + "\n" + type + "\n").getBytes(StandardCharsets.US_ASCII)); // GLOBAL
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    pickle.write('X'); // BINUNICODE: 4-byte little-endian length, UTF-8
    pickle.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(text.length).array());
    pickle.writeBytes(text);
    pickle.write(0x85); // TUPLE1
    pickle.write('R'); // REDUCE: type(*args)
    pickle.write('.'); // STOP
    return BASE64_LINES.encodeToString(pickle.toByteArray()) + "\n";
  }
}
