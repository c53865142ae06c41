package io.mpcsfaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** An interpreter's pipelining plan, on a fake clock: every instant below is made up, none is waited for. */
class PipelinePlanTest {
  private static final long MS = 1_000_000;
  private static final long LOOKAHEAD = 5 * MS;
  /** An arbitrary start, so that nothing depends on the clock starting at zero. */
  private static final long T0 = 123_456 * MS;

  private final PipelinePlan<String> plan = new PipelinePlan<>(LOOKAHEAD);

  @Test
  void anIdleInterpreterHasRoomForOne() {
    assertEquals(1, plan.room(T0));
    assertEquals(0, plan.nanosUntilIdle(T0));
    assertNull(plan.running());
    assertEquals(OptionalLong.empty(), plan.nextLook(T0), "nothing to foresee");
  }

  @Test
  void behindQuickSteadyTasksThereIsRoomForAsManyAsFitInTheLookahead() {
    assertEquals(List.of("a"), plan.add("a", MS / 5, T0), "an idle interpreter runs it at once");
    assertEquals("a", plan.running());
    assertEquals(25, plan.room(T0), "4.8 ms of the lookahead are left after the one running");
    int handed = 1;
    while (plan.room(T0) > 0) {
      plan.add("t" + handed++, MS / 5, T0);
    }
    // Handed one by one, they come while what is held ends within the lookahead and one timer tick (6 ms).
    assertEquals(31, plan.inHand());
    assertEquals(31 * MS / 5, plan.nanosUntilIdle(T0));
  }

  @Test
  void onlyThreeTasksAreInThePipeTheOthersAreHeldBack() {
    List<String> written = new ArrayList<>();
    for (String task : List.of("a", "b", "c", "d", "e")) {
      written.addAll(plan.add(task, MS / 5, T0));
    }
    assertEquals(List.of("a", "b", "c"), written);
    assertEquals(List.of("d"), plan.answered(T0 + MS / 5), "an answer makes space for the next held back");
    assertEquals("b", plan.running());
    assertEquals(List.of("e"), plan.answered(T0 + 2 * MS / 5));
    assertEquals(List.of(), plan.answered(T0 + 3 * MS / 5), "nothing left to write");
    assertEquals(2, plan.inHand());
  }

  @Test
  void theRoomIsCappedHoweverQuickTheTasks() {
    plan.add("a", MS / 100, T0);
    // 10 µs tasks are planned as 50 µs ones, and of those 100 would fit in 5 ms.
    assertEquals(PipelinePlan.MAX_PIPELINED - 1, plan.room(T0));
    for (int i = 1; i < PipelinePlan.MAX_PIPELINED; i++) {
      plan.add("t" + i, MS / 100, T0);
    }
    assertEquals(0, plan.room(T0));
  }

  @Test
  void behindAFunctionOfErraticLengthThereIsNoRoom() {
    RunTimes times = new RunTimes();
    for (int i = 0; i < 10; i++) {
      times.record("erratic", (i % 2 == 0 ? 2 : 60) * MS);
    }
    plan.add("a", times.expectedNanos("erratic"), T0);
    assertEquals(0, plan.room(T0));
    assertEquals(-1, plan.nanosUntilIdle(T0));
    assertEquals(OptionalLong.empty(), plan.nextLook(T0), "no room to foresee behind it");
  }

  @Test
  void aTaskOfUnknownLengthBehindAQuickOneClosesTheRoom() {
    plan.add("quick", MS / 5, T0);
    assertEquals(25, plan.room(T0));
    plan.add("never seen", -1, T0);
    assertEquals(0, plan.room(T0));
    assertEquals(-1, plan.nanosUntilIdle(T0));
    plan.answered(T0 + MS / 5);
    assertEquals(0, plan.room(T0 + MS / 5), "nor while it runs itself");
  }

  @Test
  void theRoomBehindASteadyLongTaskIsAnnouncedALookaheadBeforeItsExpectedEnd() {
    plan.add("sleep", 10 * MS, T0);
    assertEquals(0, plan.room(T0));
    assertEquals(OptionalLong.of(T0 + 5 * MS), plan.nextLook(T0));
    assertEquals(OptionalLong.of(T0 + 5 * MS), plan.nextLook(T0 + 2 * MS), "the same instant, however late asked");
    assertEquals(0, plan.room(T0 + 3 * MS));
    assertEquals(1, plan.room(T0 + 5 * MS), "one more sleep fits at the planned instant");
    assertEquals(OptionalLong.empty(), plan.nextLook(T0 + 5 * MS), "the room is there: nothing more to announce");
  }

  @Test
  void aTaskThatOverrunsByMoreThanTheLookaheadGivesBackThoseHeldBehindIt() {
    for (String task : List.of("a", "b", "c", "d", "e")) {
      plan.add(task, MS, T0);
    }
    // The look for an overrun comes a timer tick after the running task passes 1 ms + the lookahead.
    assertEquals(OptionalLong.of(T0 + 7 * MS), plan.nextLook(T0));
    assertEquals(List.of(), plan.takeBackIfOverran(T0 + 6 * MS), "late, but not by more than the lookahead");
    assertEquals(List.of("d", "e"), plan.takeBackIfOverran(T0 + 7 * MS), "the ones held back, in order");
    assertEquals(3, plan.inHand(), "those in the pipe stay");
    assertEquals(0, plan.room(T0 + 7 * MS));
    assertEquals(-1, plan.nanosUntilIdle(T0 + 7 * MS), "an overrunning task's end cannot be told");
    assertEquals(OptionalLong.empty(), plan.nextLook(T0 + 7 * MS));
  }

  @Test
  void aTaskAnsweredInTimeKeepsThoseHeldBehindIt() {
    for (String task : List.of("a", "b", "c", "d", "e")) {
      plan.add(task, MS, T0);
    }
    plan.answered(T0 + MS);
    assertEquals(List.of(), plan.takeBackIfOverran(T0 + 7 * MS), "b runs from 1 ms: it has not overrun at 7 ms");
    assertEquals(OptionalLong.of(T0 + 8 * MS), plan.nextLook(T0 + MS), "the overrun look moves with the new start");
  }

  @Test
  void theNextTaskRunsFromTheAnswerOfTheOneBefore() {
    plan.add("a", 2 * MS, T0);
    plan.add("b", 3 * MS, T0);
    assertEquals(5 * MS, plan.nanosUntilIdle(T0));
    plan.answered(T0 + 4 * MS);
    assertEquals("b", plan.running());
    assertEquals(MS, plan.runningNanos(T0 + 5 * MS));
    assertEquals(2 * MS, plan.nanosUntilIdle(T0 + 5 * MS), "b's 3 ms count from a's answer");
  }

  @Test
  void withoutLookaheadItIsOneTaskPerInterpreter() {
    PipelinePlan<String> oneAtATime = new PipelinePlan<>(0);
    assertEquals(1, oneAtATime.room(T0));
    oneAtATime.add("a", MS / 5, T0);
    assertEquals(0, oneAtATime.room(T0));
    assertEquals(0, oneAtATime.room(T0 + MS / 10), "not even just before its expected end");
    assertEquals(OptionalLong.empty(), oneAtATime.nextLook(T0));
  }

  @Test
  void whenItsInterpreterEndsTheRunningTaskThenTheOthersComeOutInOrder() {
    for (String task : List.of("a", "b", "c", "d", "e")) {
      plan.add(task, MS, T0);
    }
    assertEquals("a", plan.dropRunning());
    assertEquals(List.of("b", "c", "d", "e"), plan.clear());
    assertEquals(0, plan.inHand());
    assertEquals(1, plan.room(T0));
    assertEquals(0, plan.nanosUntilIdle(T0));
  }
}
