package io.mpcsfaas.worker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * The pipelining plan of one interpreter: the tasks handed to it, in order, with the run time expected of
 * each (see {@link RunTimes}), and what follows from them at a given instant. It has room for one task while
 * idle, and for more while everything it holds will likely have run within the lookahead. Of the tasks it
 * holds, at most {@link #WRITE_AHEAD} are in the pipe (the first is running); the others are held back, and
 * come back out if the running task overruns its expected time by more than the lookahead. Instants are
 * {@link System#nanoTime()} values passed in by the caller, so the plan itself never reads a clock. Not
 * thread-safe: its interpreter uses it from one context.
 *
 * @param <T> a task handed over
 */
final class PipelinePlan<T> {
  /** Most tasks one interpreter holds, however quick: bounds what the dispatcher claims ahead. */
  static final int MAX_PIPELINED = 64;
  /** Tasks in the pipe at once: the one running and two more, so Python never waits for a write. */
  static final int WRITE_AHEAD = 3;
  /** Timers tick in milliseconds: this close to the lookahead already counts as within it. */
  private static final long TIMER_TICK_NANOS = 1_000_000;
  /** Planning never counts a task as quicker than this, so a tiny average cannot ask for a flood. */
  private static final long MIN_PLANNED_NANOS = 50_000;

  /** A task with the run time expected of it when it was handed over (-1: unknown). */
  private record Planned<T>(T task, long expectedNanos) {}

  private final long lookaheadNanos;
  /** In the pipe, in order; the first is running. */
  private final ArrayDeque<Planned<T>> inPipe = new ArrayDeque<>();
  /** Handed over but not in the pipe yet, in order. */
  private final ArrayDeque<Planned<T>> held = new ArrayDeque<>();
  private long runningSince;
  /** Sum of the expected run times of the tasks behind the running one, and how many of those have none. */
  private long queuedNanos;
  private int queuedUnknown;

  /** A plan that takes more tasks while those it holds will likely have run within {@code lookaheadNanos}. */
  PipelinePlan(long lookaheadNanos) {
    this.lookaheadNanos = lookaheadNanos;
  }

  /** Tasks handed over and not answered. */
  int inHand() {
    return inPipe.size() + held.size();
  }

  /** The task running, the first in the pipe; null when idle. */
  T running() {
    Planned<T> head = inPipe.peekFirst();
    return head == null ? null : head.task();
  }

  /** How long the running task has run at {@code now}. */
  long runningNanos(long now) {
    return now - runningSince;
  }

  /**
   * How many more tasks can be handed over at {@code now}: one when idle; behind tasks that will likely all
   * have run within the lookahead, as many more like the last one as fit in it; otherwise none.
   */
  int room(long now) {
    int inHand = inHand();
    if (inHand >= MAX_PIPELINED) {
      return 0;
    }
    if (inHand == 0) {
      return 1;
    }
    long untilIdle = nanosUntilIdle(now);
    if (lookaheadNanos == 0 || untilIdle < 0 || untilIdle > lookaheadNanos + TIMER_TICK_NANOS) {
      return 0;
    }
    Planned<T> last = held.isEmpty() ? inPipe.getLast() : held.getLast();
    long each = Math.max(MIN_PLANNED_NANOS, last.expectedNanos());
    long more = 1 + Math.max(0, lookaheadNanos - untilIdle) / each;
    return (int) Math.min(MAX_PIPELINED - inHand, more);
  }

  /**
   * Expected nanoseconds from {@code now} until every task handed over has run; -1 when that cannot be told
   * (a task of unknown length, or one running well past its expected time).
   */
  long nanosUntilIdle(long now) {
    Planned<T> head = inPipe.peekFirst();
    if (head == null) {
      return 0;
    }
    if (head.expectedNanos() < 0 || queuedUnknown > 0 || overran(head, now)) {
      return -1;
    }
    return Math.max(0, head.expectedNanos() - runningNanos(now)) + queuedNanos;
  }

  /**
   * Takes {@code task}, expected to run {@code expectedNanos} (-1: unknown); an idle plan runs it from
   * {@code now}. Returns the tasks to write to the pipe now, in order.
   */
  List<T> add(T task, long expectedNanos, long now) {
    Planned<T> planned = new Planned<>(task, expectedNanos);
    if (inPipe.isEmpty()) {
      inPipe.addLast(planned);
      runningSince = now;
      return List.of(task);
    }
    countBehindRunning(planned, 1);
    held.addLast(planned);
    return fillPipe();
  }

  /**
   * The running task was answered at {@code now}: the next in the pipe runs from then on. Returns the
   * tasks to write to the pipe now, in order.
   */
  List<T> answered(long now) {
    inPipe.pollFirst();
    List<T> toWrite = fillPipe();
    Planned<T> next = inPipe.peekFirst();
    if (next != null) {
      countBehindRunning(next, -1);
      runningSince = now;
    }
    return toWrite;
  }

  /** Removes the running task and starts none: its interpreter is being stopped. Null when idle. */
  T dropRunning() {
    Planned<T> head = inPipe.pollFirst();
    return head == null ? null : head.task();
  }

  /** Whether {@code task} is in the pipe (written to the interpreter, running or next to run). */
  boolean inPipe(T task) {
    return inPipe.stream().anyMatch(planned -> planned.task() == task);
  }

  /** The first task handed over (in the pipe or held back) that {@code test} accepts; null if none. */
  T find(Predicate<T> test) {
    for (Planned<T> planned : inPipe) {
      if (test.test(planned.task())) {
        return planned.task();
      }
    }
    for (Planned<T> planned : held) {
      if (test.test(planned.task())) {
        return planned.task();
      }
    }
    return null;
  }

  /** Removes {@code task} if it is held back (not in the pipe yet); true if it was. */
  boolean removeHeld(T task) {
    for (Planned<T> planned : held) {
      if (planned.task() == task) {
        held.remove(planned);
        countBehindRunning(planned, -1);
        return true;
      }
    }
    return false;
  }

  /** Removes every task, in order (the pipe's, then those held back): its interpreter has ended. */
  List<T> clear() {
    List<T> all = new ArrayList<>();
    inPipe.forEach(planned -> all.add(planned.task()));
    held.forEach(planned -> all.add(planned.task()));
    inPipe.clear();
    held.clear();
    queuedNanos = 0;
    queuedUnknown = 0;
    return all;
  }

  /**
   * The tasks held back, in order, if the running task has overrun its expected time by more than the
   * lookahead at {@code now}: they no longer belong to this plan and should run elsewhere. Otherwise none.
   */
  List<T> takeBackIfOverran(long now) {
    Planned<T> head = inPipe.peekFirst();
    if (head == null || held.isEmpty() || !overran(head, now)) {
      return List.of();
    }
    List<T> back = new ArrayList<>();
    held.forEach(planned -> {
      countBehindRunning(planned, -1);
      back.add(planned.task());
    });
    held.clear();
    return back;
  }

  /**
   * The next instant at which the plan foresees a change, for a running task of known length: what it
   * holds comes within the lookahead of its end (room to announce), or the running task overruns while
   * tasks are held back (they should be taken back). Empty when nothing is foreseen.
   */
  OptionalLong nextLook(long now) {
    Planned<T> head = inPipe.peekFirst();
    if (head == null || head.expectedNanos() < 0 || lookaheadNanos == 0) {
      return OptionalLong.empty();
    }
    long next = Long.MAX_VALUE;
    long untilRoom = nanosUntilIdle(now) - lookaheadNanos;
    if (untilRoom > TIMER_TICK_NANOS && inHand() < MAX_PIPELINED) {
      next = untilRoom;
    }
    if (!held.isEmpty()) {
      next = Math.min(next, head.expectedNanos() + lookaheadNanos - runningNanos(now) + TIMER_TICK_NANOS);
    }
    return next == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(now + next);
  }

  /** Moves held tasks into the pipe while it has fewer than {@link #WRITE_AHEAD}; returns them. */
  private List<T> fillPipe() {
    List<T> moved = new ArrayList<>(1);
    while (inPipe.size() < WRITE_AHEAD && !held.isEmpty()) {
      Planned<T> planned = held.pollFirst();
      inPipe.addLast(planned);
      moved.add(planned.task());
    }
    return moved;
  }

  private void countBehindRunning(Planned<T> planned, int sign) {
    if (planned.expectedNanos() < 0) {
      queuedUnknown += sign;
    } else {
      queuedNanos += sign * planned.expectedNanos();
    }
  }

  /** Whether the running task has run past its expected time by more than the lookahead at {@code now}. */
  private boolean overran(Planned<T> head, long now) {
    return runningNanos(now) > head.expectedNanos() + lookaheadNanos;
  }
}
