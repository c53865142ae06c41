package io.mpcsfaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Which functions the pool may plan with, and the run time it then expects of them. */
class RunTimesTest {
  private static final long MS = 1_000_000;

  @Test
  void aFunctionNeverSeenOrSeenTooRarelyIsNotPredictable() {
    RunTimes times = new RunTimes();
    assertEquals(-1, times.expectedNanos("f"));
    times.record("f", MS);
    times.record("f", MS);
    assertEquals(-1, times.expectedNanos("f"), "two runs are not enough to call it steady");
    times.record("f", MS);
    assertEquals(MS, times.expectedNanos("f"));
  }

  @Test
  void aSteadyLongerTaskIsExpectedToRunItsUsualTime() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 5; i++) {
      times.record("sleep", 10 * MS);
    }
    assertEquals(10 * MS, times.expectedNanos("sleep"));
  }

  @Test
  void aSlowFirstRunIsSoonForgotten() {
    RunTimes times = new RunTimes();
    times.record("double", 500 * MS); // the first run unpickles the function in a fresh interpreter
    for (int i = 0; i < 20; i++) {
      times.record("double", MS / 2);
    }
    long expected = times.expectedNanos("double");
    assertEquals(MS / 2, expected, MS / 100, "20 quick runs after a cold one make it quick");
  }

  @Test
  void aFunctionOfUnsteadyLengthIsNotPredictable() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 10; i++) {
      times.record("erratic", (i % 2 == 0 ? 2 : 60) * MS);
    }
    assertEquals(-1, times.expectedNanos("erratic"));
  }

  @Test
  void aSmallJitterOnAQuickFunctionKeepsItPredictable() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 10; i++) {
      times.record("noop", (i % 2 == 0 ? 100_000 : 900_000));
    }
    assertEquals(true, times.expectedNanos("noop") > 0, "within 1.5 ms of each other: steady enough");
  }
}
