package io.mpcsfaas.api;

/**
 * Checks, without decoding it all, that a payload is base64 (with the line breaks
 * {@code codecs.encode(..., "base64")} adds) of something shaped like a pickle stream: it opens with a
 * protocol-2+ header or a protocol-0/1 opcode and ends with the STOP opcode. The Java side never unpickles.
 */
final class PicklePayload {
  private static final String PROTOCOL_0_1_OPENERS = "(]}cIJKLMNSVXUTFGdl)NN\u0088\u0089";
  static final String NOT_BASE64 =
      "payload is not base64 (expected codecs.encode(dill.dumps(obj), \"base64\").decode())";
  private static final int PROTO = 0x80;
  private static final int STOP = '.';
  private static final int[] VALUE = new int[128];

  static {
    java.util.Arrays.fill(VALUE, -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < alphabet.length(); i++) {
      VALUE[alphabet.charAt(i)] = i;
    }
  }

  private PicklePayload() {}

  /** Null when the payload is acceptable, else what is wrong with it. */
  static String problem(String payload) {
    // Only the first and the last four characters are decoded; the rest is only checked to be base64.
    char[] firstQuad = new char[4];
    char[] quad = new char[4];
    int count = 0;
    int padding = 0;
    for (int i = 0; i < payload.length(); i++) {
      char c = payload.charAt(i);
      if (c == '\n' || c == '\r') {
        continue;
      }
      if (c == '=') {
        if (++padding > 2) {
          return NOT_BASE64;
        }
      } else if (padding > 0 || c >= 128 || VALUE[c] < 0) {
        return NOT_BASE64;
      }
      quad[count % 4] = c;
      count++;
      if (count == 4) {
        System.arraycopy(quad, 0, firstQuad, 0, 4);
      }
    }
    if (count == 0 || count % 4 != 0) {
      return NOT_BASE64;
    }
    int[] first = decodeQuad(firstQuad);
    int[] last = decodeQuad(quad);
    return shapeProblem(first[0], first.length > 1 ? first[1] : -1, last[last.length - 1]);
  }

  /** Null when the first {@code length} bytes of {@code pickle} (already decoded) look like a pickle stream. */
  static String pickleProblem(byte[] pickle, int length) {
    if (length == 0) {
      return NOT_BASE64;
    }
    return shapeProblem(pickle[0] & 0xff, length > 1 ? pickle[1] & 0xff : -1, pickle[length - 1] & 0xff);
  }

  /** Null when a stream opening with these bytes (-1 for none) and ending with {@code lastByte} is a pickle's. */
  private static String shapeProblem(int first, int second, int lastByte) {
    boolean opens = first == PROTO ? second >= 2 && second <= 5 : PROTOCOL_0_1_OPENERS.indexOf(first) >= 0;
    if (!opens || lastByte != STOP) {
      return "payload is base64 but not of a pickle stream (expected dill.dumps output)";
    }
    return null;
  }

  /** Decodes four base64 characters into their 1 to 3 bytes. */
  private static int[] decodeQuad(char[] quad) {
    int bits = 0;
    int padding = 0;
    for (char c : quad) {
      bits <<= 6;
      if (c == '=') {
        padding++;
      } else {
        bits |= VALUE[c];
      }
    }
    int[] bytes = new int[3 - padding];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (bits >> (16 - 8 * i)) & 0xff;
    }
    return bytes;
  }
}
