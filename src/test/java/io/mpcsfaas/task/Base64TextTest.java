package io.mpcsfaas.task;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Base64 text decoded into a stream piece by piece gives what the JDK's MIME decoder gives for the whole text. */
class Base64TextTest {
  private static final int PIECE = 1 << 16; // Base64Text's symbols per piece

  @Test
  void plainTextOfEverySizeAroundAPieceDecodesAsTheWhole() throws IOException {
    Random random = new Random(16);
    // byte counts whose text ends inside a piece, exactly at its end, just past it, and several pieces on
    int[] sizes = {0, 1, 2, 3, 40, PIECE / 4 * 3 - 1, PIECE / 4 * 3, PIECE / 4 * 3 + 1, 5 * PIECE + 7};
    for (int size : sizes) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      assertDecodes(data, Base64.getEncoder().encodeToString(data));
    }
  }

  @Test
  void textWithLineBreaksAsDillAndCodecsWriteItDecodesAsTheWhole() throws IOException {
    byte[] data = new byte[3 * PIECE + 5];
    new Random(17).nextBytes(data);
    assertDecodes(data, Base64.getMimeEncoder(76, "\n".getBytes()).encodeToString(data) + "\n");
    assertDecodes(data, Base64.getMimeEncoder().encodeToString(data)); // \r\n every 76
  }

  @Test
  void textWithoutPaddingDecodesAsWithIt() throws IOException {
    byte[] data = {1, 2, 3, 4, 5};
    String padded = Base64.getEncoder().encodeToString(data);
    assertDecodes(data, padded.substring(0, padded.indexOf('=')));
  }

  @Test
  void textCutInTheMiddleOfAByteIsRefused() {
    String cut = Base64.getEncoder().encodeToString(new byte[3 * PIECE]) + "A";
    assertThrows(IllegalArgumentException.class, () -> new Base64Text(cut).decodedLength());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(IllegalArgumentException.class, () -> new Base64Text(cut).decodeTo(out));
  }

  private static void assertDecodes(byte[] data, String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Base64Text(text).decodeTo(out);
    assertEquals(data.length, new Base64Text(text).decodedLength(), "the length announced ahead");
    assertArrayEquals(data, out.toByteArray(), "text of " + text.length() + " characters");
  }
}
