package io.mpcsfaas.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Base64;

/**
 * Base64 text (with or without line breaks, as {@link Base64#getMimeDecoder()} reads it) decoded straight into a
 * stream, in small pieces: decoding a 64 MiB pickle's text at once copied its 85 MiB of text to bytes and held the
 * 64 MiB result, beside the task that still holds the text.
 */
final class Base64Text {
  private static final int CHUNK = 1 << 16;

  private Base64Text() {}

  /** How many bytes {@link #decodeTo} writes for {@code text}: three per four characters of the alphabet. */
  static int decodedLength(String text) {
    long symbols = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '=') {
        break; // padding ends the data, as for the MIME decoder
      }
      if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
        symbols++;
      }
    }
    if (symbols % 4 == 1) {
      throw new IllegalArgumentException("base64 text cut in the middle of a byte");
    }
    return Math.toIntExact(symbols / 4 * 3 + Math.max(0, symbols % 4 - 1));
  }

  /**
   * Decodes {@code text} into {@code out}, exactly {@link #decodedLength} bytes; IllegalArgumentException when the
   * text turns out not to be base64 on the way (what was written is then garbage: the caller stops the reader).
   */
  static void decodeTo(String text, OutputStream out) throws IOException {
    int expected = decodedLength(text);
    int written = 0;
    InputStream decoded = Base64.getMimeDecoder().wrap(new TextStream(text));
    byte[] chunk = new byte[CHUNK];
    while (true) {
      int n;
      try {
        n = decoded.read(chunk);
      } catch (IOException e) {
        throw new IllegalArgumentException("not base64: " + e.getMessage(), e);
      }
      if (n <= 0) {
        break;
      }
      out.write(chunk, 0, n);
      written += n;
    }
    if (written != expected) {
      throw new IllegalArgumentException("base64 text of " + written + " bytes, not " + expected);
    }
  }

  /** The characters of a Latin-1 text as bytes, without copying it whole. */
  private static final class TextStream extends InputStream {
    private final String text;
    private int pos;

    TextStream(String text) {
      this.text = text;
    }

    @Override
    public int read() {
      return pos < text.length() ? text.charAt(pos++) & 0xff : -1;
    }

    @Override
    public int read(byte[] into, int off, int len) {
      if (pos >= text.length()) {
        return -1;
      }
      int n = Math.min(len, text.length() - pos);
      for (int i = 0; i < n; i++) {
        into[off + i] = (byte) text.charAt(pos + i);
      }
      pos += n;
      return n;
    }
  }
}
