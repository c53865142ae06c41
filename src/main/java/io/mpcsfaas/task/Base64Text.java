package io.mpcsfaas.task;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Base64 text (with or without line breaks, as {@link Base64#getMimeDecoder()} reads it) decoded straight into a
 * stream, in small pieces (an interpreter's pipe, the API's answer of a value as bytes): decoding a 64 MiB pickle's
 * text at once copied its 85 MiB of text to bytes and held the 64 MiB result, beside the task that still holds the
 * text. Text without line breaks (what the API stores, and
 * every result) is cut into pieces for the JDK's array decoder as it is; only text with line breaks is read
 * character by character, which is about eight times slower (75 ms for 8 MiB against 10).
 */
public final class Base64Text {
  private static final int CHUNK = 1 << 16; // characters per piece: a multiple of 4, so every piece but the last is whole

  private final String text;
  /** No line breaks: base64 as the basic decoder reads it, if base64 at all (the API admits no other separator). */
  private final boolean plain;

  /** Looks once for line breaks: both the length and the decoding depend on it. */
  public Base64Text(String text) {
    this.text = text;
    this.plain = text.indexOf('\n') < 0 && text.indexOf('\r') < 0;
  }

  /** The length of the base64 text (padded, no line breaks) of {@code bytes} bytes. */
  public static long encodedLength(long bytes) {
    return (bytes + 2) / 3 * 4;
  }

  /** How many bytes {@link #decodeTo} writes: three per four characters of the alphabet. */
  public int decodedLength() {
    long symbols = 0;
    if (plain) {
      symbols = text.length() - padding();
    } else {
      for (int i = 0; i < text.length() && text.charAt(i) != '='; i++) { // padding ends the data, as for MIME
        if (isSymbol(text.charAt(i))) {
          symbols++;
        }
      }
    }
    if (symbols % 4 == 1) {
      throw new IllegalArgumentException("base64 text cut in the middle of a byte");
    }
    return Math.toIntExact(symbols / 4 * 3 + Math.max(0, symbols % 4 - 1));
  }

  /**
   * Decodes the text into {@code out}: exactly {@link #decodedLength} bytes. A text that is not base64 throws
   * IllegalArgumentException on the way, after writing what came before; {@link #decodedLength}, asked first,
   * throws for a text cut in the middle of a byte before anything is written.
   */
  public void decodeTo(OutputStream out) throws IOException {
    Base64.Decoder decoder = Base64.getDecoder();
    byte[] bytes = new byte[Math.min(CHUNK, text.length() + 3 & ~3) / 4 * 3];
    if (plain) {
      for (int from = 0; from < text.length(); from += CHUNK) {
        byte[] piece = text.substring(from, Math.min(text.length(), from + CHUNK)).getBytes(StandardCharsets.ISO_8859_1);
        out.write(bytes, 0, decoder.decode(piece, bytes));
      }
      return;
    }
    byte[] symbols = new byte[bytes.length / 3 * 4];
    int count = 0;
    for (int i = 0; i < text.length() && text.charAt(i) != '='; i++) {
      char c = text.charAt(i);
      if (isSymbol(c)) {
        symbols[count++] = (byte) c;
        if (count == symbols.length) {
          out.write(bytes, 0, decoder.decode(symbols, bytes));
          count = 0;
        }
      }
    }
    if (count > 0) {
      out.write(decoder.decode(Arrays.copyOf(symbols, count))); // unpadded: the basic decoder takes it
    }
  }

  private int padding() {
    int end = text.length();
    while (end > 0 && end > text.length() - 2 && text.charAt(end - 1) == '=') {
      end--;
    }
    return text.length() - end;
  }

  private static boolean isSymbol(char c) {
    return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/';
  }
}
