package io.mpcsfaas.worker;

import io.mpcsfaas.transport.TaskOutcome;
import io.mpcsfaas.transport.TaskSpec;
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
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived Python runner process. Its pipes are blocking, so a writer thread and a reader thread own
 * them; everything else (the queue of tasks handed to it, timeouts, the exit) happens on the owning Vert.x
 * context. Tasks are answered in the order they were sent; the head of {@link #inFlight} is the one running.
 * It takes more tasks while it is idle or while everything handed to it will likely have run within the
 * lookahead (see {@link RunTimes}).
 */
final class Interpreter {
  private static final Logger LOG = LoggerFactory.getLogger(Interpreter.class);
  /** Most tasks in one interpreter's pipe, however quick: bounds the frames written ahead. */
  static final int MAX_PIPELINED = 64;
  /** Timers tick in milliseconds: this close to the lookahead already counts as within it. */
  private static final long TIMER_TICK_NANOS = 1_000_000;
  /** Planning never counts a task as quicker than this, so a tiny average cannot ask for a flood. */
  private static final long MIN_PLANNED_NANOS = 50_000;
  /** Variables user code may see; everything else (API keys, tokens, Redis passwords) is withheld. */
  private static final List<String> INHERITED_ENV =
      List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH");

  private final int number;
  private final Context context;
  private final PoolOptions options;
  private final Process process;
  private final DataOutputStream toPython;
  private final ExecutorService writer;
  private final ArrayDeque<Queued> inFlight = new ArrayDeque<>();
  private final BiConsumer<Interpreter, List<Handoff>> onExit;
  private final RunTimes runTimes;
  private final Runnable mayTakeMore;
  private long headTimer = -1;
  private long lookaheadTimer = -1;
  private long headStartedNanos;
  /** Sum of the expected run times of the tasks behind the head, and how many of those have none. */
  private long queuedNanos;
  private int queuedUnknown;
  private boolean alive = true;
  private volatile boolean killed;

  private Interpreter(int number, Context context, PoolOptions options, Process process, RunTimes runTimes,
      Runnable mayTakeMore, BiConsumer<Interpreter, List<Handoff>> onExit) {
    this.number = number;
    this.runTimes = runTimes;
    this.mayTakeMore = mayTakeMore;
    this.context = context;
    this.options = options;
    this.process = process;
    this.onExit = onExit;
    this.toPython = new DataOutputStream(new BufferedOutputStream(process.getOutputStream(), 1 << 16));
    this.writer = Executors.newSingleThreadExecutor(r -> daemon(r, "interpreter-" + number + "-writer"));
    Thread reader = daemon(this::readReplies, "interpreter-" + number + "-reader");
    reader.start();
  }

  /**
   * Starts a runner process (blocking: call off the event loop). {@code mayTakeMore} runs on {@code context}
   * when the tasks it holds come within the lookahead of their expected end, so that more can be handed over.
   * {@code onExit} runs on {@code context} when the process ends, with the tasks it had been given but not
   * started, for the pool to run elsewhere; the task it was running has been failed by then.
   */
  static Interpreter start(int number, Context context, PoolOptions options, Path runner, RunTimes runTimes,
      Runnable mayTakeMore, BiConsumer<Interpreter, List<Handoff>> onExit) throws IOException {
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
    return new Interpreter(number, context, options, builder.start(), runTimes, mayTakeMore, onExit);
  }

  /** A task handed to this interpreter, with the run time expected of it then (-1: unknown). */
  private record Queued(Handoff handoff, long expectedNanos) {}

  int load() {
    return inFlight.size();
  }

  boolean alive() {
    return alive;
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
    if (!alive || inFlight.size() >= MAX_PIPELINED) {
      return 0;
    }
    if (inFlight.isEmpty()) {
      return 1;
    }
    long untilIdle = nanosUntilIdle();
    if (options.lookaheadNanos() == 0 || untilIdle < 0 || untilIdle > options.lookaheadNanos() + TIMER_TICK_NANOS) {
      return 0;
    }
    long each = Math.max(MIN_PLANNED_NANOS, inFlight.peekLast().expectedNanos());
    long more = 1 + Math.max(0, options.lookaheadNanos() - untilIdle) / each;
    return (int) Math.min(MAX_PIPELINED - inFlight.size(), more);
  }

  /**
   * Expected nanoseconds until everything handed to this interpreter has run; -1 when that cannot be told
   * (a task of unknown length, or one running well past its usual time).
   */
  long nanosUntilIdle() {
    Queued head = inFlight.peekFirst();
    if (head == null) {
      return 0;
    }
    long running = System.nanoTime() - headStartedNanos;
    if (head.expectedNanos() < 0 || queuedUnknown > 0 || running > head.expectedNanos() + options.lookaheadNanos()) {
      return -1;
    }
    return Math.max(0, head.expectedNanos() - running) + queuedNanos;
  }

  /** Hands a task to this interpreter; call on the owning context. */
  void run(Handoff handoff) {
    Queued queued = new Queued(handoff, runTimes.expectedNanos(handoff.task().functionId()));
    inFlight.addLast(queued);
    if (inFlight.size() == 1) {
      startHead();
    } else {
      countBehindHead(queued, 1);
    }
    armLookahead();
    writer.execute(() -> send(handoff.task()));
  }

  /** Stops the process; its tasks are reported through the exit callback like any other exit. */
  void kill() {
    killed = true;
    process.destroyForcibly();
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
    Queued head = inFlight.pollFirst();
    cancelTimers();
    if (head == null || !head.handoff().task().taskId().equals(reply.getString("task"))) {
      LOG.warn("interpreter {}: reply out of order, stopping it", number);
      process.destroyForcibly();
      return;
    }
    runTimes.record(head.handoff().task().functionId(), System.nanoTime() - headStartedNanos);
    // The next task in the pipe runs from now on. Its timers are armed before the outcome is delivered: the
    // pool's listeners run inside tryComplete and may hand this interpreter its next task at once.
    Queued next = inFlight.peekFirst();
    if (next != null) {
      countBehindHead(next, -1);
      startHead();
      armLookahead();
    }
    head.handoff().promise().tryComplete(new TaskOutcome(reply.getBoolean("ok"), reply.getString("result"),
        reply.getString("error")));
  }

  private void onProcessExit(int exitCode) {
    alive = false;
    cancelTimers();
    writer.shutdownNow();
    Queued head = inFlight.pollFirst();
    if (head != null) {
      head.handoff().promise().tryComplete(TaskOutcome.platformFailure("RuntimeError", crashMessage(exitCode)));
    }
    List<Handoff> notStarted = new ArrayList<>();
    inFlight.forEach(queued -> notStarted.add(queued.handoff()));
    inFlight.clear();
    queuedNanos = 0;
    queuedUnknown = 0;
    onExit.accept(this, notStarted);
  }

  private void countBehindHead(Queued queued, int sign) {
    if (queued.expectedNanos() < 0) {
      queuedUnknown += sign;
    } else {
      queuedNanos += sign * queued.expectedNanos();
    }
  }

  /** The head of the pipe runs from now on: its timeout starts. */
  private void startHead() {
    Handoff head = inFlight.getFirst().handoff();
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

  /** Tasks of steady length: announce the room for more shortly before the pipe's expected end. */
  private void armLookahead() {
    if (lookaheadTimer >= 0) {
      context.owner().cancelTimer(lookaheadTimer);
      lookaheadTimer = -1;
    }
    if (options.lookaheadNanos() == 0 || inFlight.size() >= MAX_PIPELINED) {
      return;
    }
    long untilRoom = nanosUntilIdle() - options.lookaheadNanos();
    if (untilRoom > TIMER_TICK_NANOS) {
      lookaheadTimer = context.owner().setTimer(untilRoom / TIMER_TICK_NANOS, id -> {
        lookaheadTimer = -1;
        mayTakeMore.run();
      });
    }
  }

  private void cancelTimers() {
    if (headTimer >= 0) {
      context.owner().cancelTimer(headTimer);
      headTimer = -1;
    }
    if (lookaheadTimer >= 0) {
      context.owner().cancelTimer(lookaheadTimer);
      lookaheadTimer = -1;
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
