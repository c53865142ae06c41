package io.mpcsfaas.worker;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived Python runner process. Its pipes are blocking, so a writer thread and a reader thread own
 * them; everything else (the tasks handed to it, timeouts, the exit) happens on the owning Vert.x context.
 * It takes more tasks while it is idle or while everything handed to it will likely have run within the
 * lookahead (see {@link RunTimes}). Of those, at most {@link #WRITE_AHEAD} are written to its pipe, where
 * Python answers them in order (the first is the one running); the others wait here, and go back to the
 * pool if the running task overruns its usual time, so that a task that hangs strands no more than two.
 */
final class Interpreter {
  private static final Logger LOG = LoggerFactory.getLogger(Interpreter.class);
  /** Most tasks one interpreter holds, however quick: bounds what the dispatcher claims ahead. */
  static final int MAX_PIPELINED = 64;
  /** Tasks written to the pipe at once: the one running and two more, so Python never waits for a write. */
  static final int WRITE_AHEAD = 3;
  /** Timers tick in milliseconds: this close to the lookahead already counts as within it. */
  private static final long TIMER_TICK_NANOS = 1_000_000;
  /** Planning never counts a task as quicker than this, so a tiny average cannot ask for a flood. */
  private static final long MIN_PLANNED_NANOS = 50_000;
  /** Variables user code may see; everything else (API keys, tokens, Redis passwords) is withheld. */
  private static final List<String> INHERITED_ENV =
      List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH");

  /** What the pool hears from an interpreter, on the interpreter's context. */
  interface Listener {
    /** A task ended, or those held came within the lookahead of their end: there may be room for more. */
    void mayTakeMore();

    /** Tasks handed over but not started come back to run elsewhere: the one running overran. */
    void giveBack(List<Handoff> notStarted);

    /** The process ended; the task it was running has been failed, those not started come back. */
    void exited(Interpreter interpreter, List<Handoff> notStarted);
  }

  /** A task handed to this interpreter, with the run time expected of it then (-1: unknown). */
  private record Queued(Handoff handoff, long expectedNanos) {}

  private final int number;
  private final Context context;
  private final PoolOptions options;
  private final Process process;
  private final DataOutputStream toPython;
  private final ExecutorService writer;
  private final RunTimes runTimes;
  private final Listener listener;
  /** Written to Python, in order; the first is running. */
  private final ArrayDeque<Queued> inPipe = new ArrayDeque<>();
  /** Handed over but not written yet, in order. */
  private final ArrayDeque<Queued> held = new ArrayDeque<>();
  private long headTimer = -1;
  private long planTimer = -1;
  private long headStartedNanos;
  /** Sum of the expected run times of the tasks behind the running one, and how many of those have none. */
  private long queuedNanos;
  private int queuedUnknown;
  private boolean alive = true;
  private volatile boolean killed;

  private Interpreter(int number, Context context, PoolOptions options, Process process, RunTimes runTimes,
      Listener listener) {
    this.number = number;
    this.context = context;
    this.options = options;
    this.process = process;
    this.runTimes = runTimes;
    this.listener = listener;
    this.toPython = new DataOutputStream(new BufferedOutputStream(process.getOutputStream(), 1 << 16));
    this.writer = Executors.newSingleThreadExecutor(r -> daemon(r, "interpreter-" + number + "-writer"));
    Thread reader = daemon(this::readReplies, "interpreter-" + number + "-reader");
    reader.start();
  }

  /** Starts a runner process (blocking: call off the event loop); {@code listener} hears from it on {@code context}. */
  static Interpreter start(int number, Context context, PoolOptions options, Path runner, RunTimes runTimes,
      Listener listener) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(options.python(), "-u", runner.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    Map<String, String> env = builder.environment();
    Map<String, String> parent = Map.copyOf(env);
    env.clear();
    INHERITED_ENV.forEach(name -> {
      if (parent.containsKey(name)) {
        env.put(name, parent.get(name));
      }
    });
    env.put("FAAS_MEMORY_LIMIT_MB", Integer.toString(options.memoryLimitMb()));
    return new Interpreter(number, context, options, builder.start(), runTimes, listener);
  }

  /** Tasks handed to this interpreter and not answered. */
  int inHand() {
    return inPipe.size() + held.size();
  }

  /** Whether this interpreter can take another task now: it is idle, or what it holds will end soon. */
  boolean canTake() {
    return room() > 0;
  }

  /**
   * How many more tasks this interpreter can take now: one when idle; behind tasks that will likely all have
   * run within the lookahead, as many more like the last one as fit in it; otherwise none.
   */
  int room() {
    int inHand = inHand();
    if (!alive || inHand >= MAX_PIPELINED) {
      return 0;
    }
    if (inHand == 0) {
      return 1;
    }
    long untilIdle = nanosUntilIdle();
    if (options.lookaheadNanos() == 0 || untilIdle < 0 || untilIdle > options.lookaheadNanos() + TIMER_TICK_NANOS) {
      return 0;
    }
    Queued last = held.isEmpty() ? inPipe.getLast() : held.getLast();
    long each = Math.max(MIN_PLANNED_NANOS, last.expectedNanos());
    long more = 1 + Math.max(0, options.lookaheadNanos() - untilIdle) / each;
    return (int) Math.min(MAX_PIPELINED - inHand, more);
  }

  /**
   * Expected nanoseconds until everything handed to this interpreter has run; -1 when that cannot be told
   * (a task of unknown length, or one running well past its usual time).
   */
  long nanosUntilIdle() {
    Queued head = inPipe.peekFirst();
    if (head == null) {
      return 0;
    }
    if (head.expectedNanos() < 0 || queuedUnknown > 0 || overran(head)) {
      return -1;
    }
    return Math.max(0, head.expectedNanos() - (System.nanoTime() - headStartedNanos)) + queuedNanos;
  }

  /** Hands a task to this interpreter; call on the owning context. */
  void run(Handoff handoff) {
    Queued queued = new Queued(handoff, runTimes.expectedNanos(handoff.task().functionId()));
    if (inPipe.isEmpty()) {
      write(queued);
      startHead();
    } else {
      countBehindHead(queued, 1);
      held.addLast(queued);
      writeHeld();
    }
    armPlanTimer();
  }

  /** Stops the process; its tasks are settled when its exit is seen, like any other exit. */
  void kill() {
    alive = false;
    killed = true;
    process.destroyForcibly();
  }

  private void write(Queued queued) {
    inPipe.addLast(queued);
    writer.execute(() -> send(queued.handoff().task()));
  }

  /** Moves held tasks into the pipe while it has fewer than {@link #WRITE_AHEAD}. */
  private void writeHeld() {
    while (inPipe.size() < WRITE_AHEAD && !held.isEmpty()) {
      write(held.pollFirst());
    }
  }

  private void send(TaskSpec task) {
    JsonObject request = new JsonObject().put("task", task.taskId()).put("fid", task.functionId())
        .put("fn", task.functionPayload()).put("args", task.argsPayload());
    byte[] body = request.toBuffer().getBytes();
    try {
      toPython.writeInt(body.length);
      toPython.write(body);
      toPython.flush();
    } catch (IOException e) {
      // The process died; the reader sees the end of its output and reports the exit.
      LOG.debug("interpreter {}: write failed: {}", number, e.getMessage());
    }
  }

  private void readReplies() {
    try (DataInputStream fromPython = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16))) {
      while (true) {
        byte[] body = new byte[fromPython.readInt()];
        fromPython.readFully(body);
        JsonObject reply = new JsonObject(new String(body, StandardCharsets.UTF_8));
        context.runOnContext(v -> onReply(reply));
      }
    } catch (EOFException e) {
      // normal end of the process's output
    } catch (IOException | RuntimeException e) {
      if (!killed) {
        LOG.warn("interpreter {}: unreadable reply, stopping it: {}", number, e.toString());
      }
      process.destroyForcibly();
    }
    int exitCode = waitForExit();
    context.runOnContext(v -> onProcessExit(exitCode));
  }

  private void onReply(JsonObject reply) {
    if (!alive) {
      return; // stopped: its exit settles what it held
    }
    Queued head = inPipe.pollFirst();
    if (head == null || !head.handoff().task().taskId().equals(reply.getString("task"))) {
      LOG.warn("interpreter {}: reply out of order, stopping it", number);
      if (head != null) {
        head.handoff().promise().tryComplete(TaskOutcome.platformFailure("RuntimeError",
            "the interpreter running this task answered out of order and was stopped"));
      }
      kill();
      return;
    }
    cancelTimers();
    runTimes.record(head.handoff().task().functionId(), System.nanoTime() - headStartedNanos);
    writeHeld();
    // The next task in the pipe runs from now on. Its timers are armed before the outcome is delivered: the
    // pool's listeners run inside tryComplete and may hand this interpreter its next task at once.
    Queued next = inPipe.peekFirst();
    if (next != null) {
      countBehindHead(next, -1);
      startHead();
      armPlanTimer();
    }
    head.handoff().promise().tryComplete(new TaskOutcome(reply.getBoolean("ok"), reply.getString("result"),
        reply.getString("error")));
  }

  private void onProcessExit(int exitCode) {
    alive = false;
    cancelTimers();
    writer.shutdownNow();
    Queued head = inPipe.pollFirst();
    if (head != null) {
      head.handoff().promise().tryComplete(TaskOutcome.platformFailure("RuntimeError", crashMessage(exitCode)));
    }
    List<Handoff> notStarted = new ArrayList<>();
    inPipe.forEach(queued -> notStarted.add(queued.handoff()));
    held.forEach(queued -> notStarted.add(queued.handoff()));
    inPipe.clear();
    held.clear();
    queuedNanos = 0;
    queuedUnknown = 0;
    listener.exited(this, notStarted);
  }

  private void countBehindHead(Queued queued, int sign) {
    if (queued.expectedNanos() < 0) {
      queuedUnknown += sign;
    } else {
      queuedNanos += sign * queued.expectedNanos();
    }
  }

  /** Whether the running task has run past its usual time by more than the lookahead. */
  private boolean overran(Queued head) {
    return System.nanoTime() - headStartedNanos > head.expectedNanos() + options.lookaheadNanos();
  }

  /** The head of the pipe runs from now on: its timeout starts. */
  private void startHead() {
    Handoff head = inPipe.getFirst().handoff();
    headStartedNanos = System.nanoTime();
    Integer requested = head.task().timeoutSeconds();
    long seconds = requested != null ? requested : options.defaultTimeoutSeconds();
    headTimer = context.owner().setTimer(seconds * 1000, id -> {
      headTimer = -1;
      head.promise().tryComplete(TaskOutcome.platformFailure("TimeoutError",
          "the task ran longer than its timeout of " + seconds + " s; its interpreter was stopped"));
      kill();
    });
  }

  /**
   * One timer for the next thing the plan foresees, for a running task of known length: what this
   * interpreter holds comes within the lookahead of its end (room to announce), or the running task
   * overruns while tasks are held behind it (they go back to the pool).
   */
  private void armPlanTimer() {
    if (planTimer >= 0) {
      context.owner().cancelTimer(planTimer);
      planTimer = -1;
    }
    Queued head = inPipe.peekFirst();
    if (head == null || head.expectedNanos() < 0 || options.lookaheadNanos() == 0) {
      return;
    }
    long next = Long.MAX_VALUE;
    long untilRoom = nanosUntilIdle() - options.lookaheadNanos();
    if (untilRoom > TIMER_TICK_NANOS && inHand() < MAX_PIPELINED) {
      next = untilRoom;
    }
    if (!held.isEmpty()) {
      long running = System.nanoTime() - headStartedNanos;
      next = Math.min(next, head.expectedNanos() + options.lookaheadNanos() - running + TIMER_TICK_NANOS);
    }
    if (next != Long.MAX_VALUE) {
      planTimer = context.owner().setTimer(Math.max(1, next / TIMER_TICK_NANOS), id -> {
        planTimer = -1;
        onPlanTimer();
      });
    }
  }

  private void onPlanTimer() {
    Queued head = inPipe.peekFirst();
    if (head != null && !held.isEmpty() && overran(head)) {
      List<Handoff> back = new ArrayList<>();
      held.forEach(queued -> {
        countBehindHead(queued, -1);
        back.add(queued.handoff());
      });
      held.clear();
      listener.giveBack(back);
    }
    armPlanTimer();
    listener.mayTakeMore();
  }

  private void cancelTimers() {
    if (headTimer >= 0) {
      context.owner().cancelTimer(headTimer);
      headTimer = -1;
    }
    if (planTimer >= 0) {
      context.owner().cancelTimer(planTimer);
      planTimer = -1;
    }
  }

  private int waitForExit() {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  static String crashMessage(int exitCode) {
    if (exitCode > 128) {
      int signal = exitCode - 128;
      return "the interpreter running this task was killed by signal " + signal + signalName(signal);
    }
    return "the interpreter running this task exited with code " + exitCode;
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 4 -> " (SIGILL)";
      case 6 -> " (SIGABRT)";
      case 7 -> " (SIGBUS)";
      case 8 -> " (SIGFPE)";
      case 9 -> " (SIGKILL)";
      case 11 -> " (SIGSEGV)";
      case 15 -> " (SIGTERM)";
      default -> "";
    };
  }

  private static Thread daemon(Runnable body, String name) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    return t;
  }
}
