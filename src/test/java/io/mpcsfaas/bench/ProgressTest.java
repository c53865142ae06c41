package io.mpcsfaas.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress line: rewritten in place on a terminal, with done/total, the last second's rate and the time. */
class ProgressTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  /** A clock the test moves: no sleeping. */
  private final AtomicLong nanos = new AtomicLong(7_000_000_000L);

  private String written() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** Shows {@code done} half a second after the previous line. */
  private void after500ms(Progress progress, int done) {
    nanos.addAndGet(500_000_000L);
    progress.show(done);
  }

  @Test
  void onATerminalEachLineOverwritesTheLastAndTheEndBlanksIt() {
    Progress progress = new Progress(true, out, nanos::get, "run");
    progress.begin(100);
    after500ms(progress, 20);
    after500ms(progress, 40);
    after500ms(progress, 100);
    String shown = written();
    assertFalse(shown.contains("\n"), shown);
    List<String> lines = List.of(shown.substring(1).split("\r"));
    assertEquals(List.of("run: 20/100 tasks, 40 tasks/s, 0.5 s", "run: 40/100 tasks, 40 tasks/s, 1.0 s",
        "run: 100/100 tasks, 80 tasks/s, 1.5 s"), lines, "the rate of the last second: 80 from 0.5 s to 1.5 s");

    progress.end();
    String blank = "\r" + " ".repeat(lines.get(2).length()) + "\r";
    assertTrue(written().endsWith(blank), written());
    progress.end();
    assertTrue(written().endsWith(blank) && !written().endsWith(blank + blank), "a line is blanked once");
  }

  @Test
  void aShorterLineBlanksWhatTheLongerOneLeftAndARunForAWhileHasNoTotal() {
    Progress progress = new Progress(true, out, nanos::get, "warm-up");
    progress.begin(0);
    after500ms(progress, 10000);
    after500ms(progress, 10005);
    after500ms(progress, 10005);
    String[] lines = written().substring(1).split("\r");
    assertEquals("warm-up: 10000 tasks, 20000 tasks/s, 0.5 s", lines[0]);
    assertEquals("warm-up: 10005 tasks, 10005 tasks/s, 1.0 s", lines[1]);
    assertEquals("warm-up: 10005 tasks, 5 tasks/s, 1.5 s    ", lines[2]);
  }

  @Test
  void offATerminalItWritesNothing() {
    Progress progress = new Progress(false, out, nanos::get, "run");
    progress.follow(null, 100, () -> 1); // off: no timer either, so it needs no Vert.x
    progress.begin(100);
    after500ms(progress, 50);
    progress.end();
    assertEquals("", written());
  }
}
