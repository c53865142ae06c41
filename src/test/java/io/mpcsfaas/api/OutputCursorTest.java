package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a follower writes of a stream's kept tail as the tail grows and slides. */
class OutputCursorTest {

  @Test
  void writesWhatWasAppendedWhileTheTailOnlyGrows() {
    OutputCursor cursor = new OutputCursor();
    assertEquals("", cursor.next(""));
    assertEquals("one\n", cursor.next("one\n"));
    assertEquals("", cursor.next("one\n"), "nothing new");
    assertEquals("two\n", cursor.next("one\ntwo\n"));
  }

  @Test
  void findsWhereItStoppedInATailThatSlid() {
    OutputCursor cursor = new OutputCursor();
    cursor.next(lines(1, 100));
    assertEquals(lines(101, 102), cursor.next(lines(3, 102)), "two lines dropped from the kept tail, two printed");
  }

  /** "line from\n" to "line to\n". */
  private static String lines(int from, int to) {
    StringBuilder text = new StringBuilder();
    for (int i = from; i <= to; i++) {
      text.append("line ").append(i).append('\n');
    }
    return text.toString();
  }

  @Test
  void marksWhatWasLostWhenTheTailSlidPastAllItWrote() {
    OutputCursor cursor = new OutputCursor();
    cursor.next("line 1\n");
    assertEquals(OutputCursor.TRUNCATED + "line 7\nline 8\n", cursor.next("line 7\nline 8\n"));
  }
}
