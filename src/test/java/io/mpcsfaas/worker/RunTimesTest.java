package io.mpcsfaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** When the pool may hand a busy interpreter its next task: only shortly before a predictable end. */
class RunTimesTest {
  private static final long MS = 1_000_000;

  @Test
  void aFunctionNeverSeenOrSeenTooRarelyIsNotPredictable() {
    RunTimes times = new RunTimes();
    assertEquals(-1, times.untilEndsSoon("f", 0));
    times.record("f", MS);
    times.record("f", MS);
    assertEquals(-1, times.untilEndsSoon("f", 0), "two runs are not enough to call it steady");
    times.record("f", MS);
    assertTrue(times.endsSoon("f", 0), "a steady 1 ms function ends soon from its start");
  }

  @Test
  void aSteadyLongerTaskEndsSoonOnlyNearItsExpectedEnd() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 5; i++) {
      times.record("sleep", 10 * MS);
    }
    assertEquals(7 * MS, times.untilEndsSoon("sleep", 0), "3 ms ahead of its 10 ms");
    assertFalse(times.endsSoon("sleep", 2 * MS));
    assertTrue(times.endsSoon("sleep", 6 * MS), "within a timer tick of the lead");
    assertTrue(times.endsSoon("sleep", 9 * MS));
    assertEquals(-1, times.untilEndsSoon("sleep", 14 * MS), "running past its usual time: no longer predictable");
  }

  @Test
  void aSlowFirstRunIsSoonForgotten() {
    RunTimes times = new RunTimes();
    times.record("double", 500 * MS); // the first run unpickles the function in a fresh interpreter
    for (int i = 0; i < 20; i++) {
      times.record("double", MS / 2);
    }
    assertTrue(times.endsSoon("double", 0), "20 quick runs after a cold one make it quick");
  }

  @Test
  void aFunctionOfUnsteadyLengthIsNotPredictable() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 10; i++) {
      times.record("erratic", (i % 2 == 0 ? 2 : 60) * MS);
    }
    assertEquals(-1, times.untilEndsSoon("erratic", 0));
    assertFalse(times.endsSoon("erratic", 30 * MS));
  }
}
