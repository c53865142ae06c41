package io.mpcsfaas.worker;

import io.mpcsfaas.task.Base64Text;
import io.mpcsfaas.task.HeldFunctions;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.transport.Protocol;
import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived Python runner process. Its pipes are blocking, so a writer thread and a reader thread own
 * them; everything else (the tasks handed to it, timeouts, the exit) happens on the owning Vert.x context.
 * Its {@link PipelinePlan} says how many tasks it can take, which to write to its pipe (where Python answers
 * them in order), when to look again, and which to give back to the pool because the running task overran;
 * this class carries that out with the process, its pipes, their threads and Vert.x timers.
 */
final class Interpreter {
  private static final Logger LOG = LoggerFactory.getLogger(Interpreter.class);
  /** Variables user code may see; everything else (API keys, tokens, Redis passwords) is withheld. */
  private static final List<String> INHERITED_ENV =
      List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH");
  /**
   * glibc's malloc gives blocks over its mmap threshold back to the kernel when freed, and trims the heap's
   * free top: a runner then faults in every page of each big pickle again, task after task (about 16,000 page
   * faults and 70 ms per 8 MiB echo). Blocks up to 32 MiB (glibc's largest threshold) come from the heap, and
   * up to 256 MiB of freed heap stays for the next task: an interpreter keeps the memory of its biggest task.
   */
  private static final Map<String, String> MALLOC_ENV =
      Map.of("MALLOC_MMAP_THRESHOLD_", Integer.toString(32 << 20), "MALLOC_TRIM_THRESHOLD_", Integer.toString(256 << 20));
  /** How many functions a runner holds decoded, and their payloads' bytes at most (a bigger one is held alone). */
  private static final int MAX_HELD_FUNCTIONS = 256;
  private static final long MAX_HELD_BYTES = 64L << 20;

  /** What the pool hears from an interpreter, on the interpreter's context. */
  interface Listener {
    /** A task ended, or those held came within the lookahead of their end: there may be room for more. */
    void mayTakeMore();

    /** Tasks handed over but not started come back to run elsewhere: the one running overran. */
    void giveBack(List<Handoff> notStarted);

    /** The process ended; the task it was running has been failed, those not started come back. */
    void exited(Interpreter interpreter, List<Handoff> notStarted);

    /** The task running here printed: what it printed so far (before its outcome, never after). */
    void output(String taskId, TaskOutput output);
  }

  private final int number;
  private final Context context;
  private final PoolOptions options;
  private final Process process;
  private final DataOutputStream toPython;
  private final ExecutorService writer;
  private final RunTimes runTimes;
  private final Listener listener;
  private final PipelinePlan<Handoff> plan;
  /** Cancelled while in the pipe behind the running task: the process stops when one of them comes to run. */
  private final Set<Handoff> cancelledInPipe = new HashSet<>();
  /**
   * The functions written to the runner and not since forgotten: exactly those it holds, as it keeps what a
   * frame carries and lets go what a frame lists (runner.py). Kept on the context, in the pipe's order.
   */
  private final HeldFunctions<Boolean> sent = new HeldFunctions<>(MAX_HELD_FUNCTIONS, MAX_HELD_BYTES);
  private long headTimer = -1;
  private long planTimer = -1;
  private boolean alive = true;
  /** What the running task printed, as last reported: kept in its outcome if the platform must end it. */
  private TaskOutput headOutput = TaskOutput.NONE;
  private volatile boolean killed;
  /** Set by the reader before it reports the exit (runOnContext publishes it): a reply the heap could not hold. */
  private boolean resultTooBig;

  private Interpreter(int number, Context context, PoolOptions options, Process process, RunTimes runTimes,
      Listener listener) {
    this.number = number;
    this.context = context;
    this.options = options;
    this.process = process;
    this.runTimes = runTimes;
    this.listener = listener;
    this.plan = new PipelinePlan<>(options.lookaheadNanos());
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
    env.put("FAAS_MAX_OUTPUT_KB", Integer.toString(options.maxOutputKb()));
    env.put("FAAS_PYTHON_PATH", String.join(File.pathSeparator, options.pythonPath()));
    env.putAll(MALLOC_ENV);
    return new Interpreter(number, context, options, builder.start(), runTimes, listener);
  }

  /** Tasks handed to this interpreter and not answered. */
  int inHand() {
    return plan.inHand();
  }

  /** Whether this interpreter can take another task now: it is idle, or what it holds will end soon. */
  boolean canTake() {
    return room() > 0;
  }

  /** How many more tasks this interpreter can take now (see {@link PipelinePlan#room}); none once stopped. */
  int room() {
    return alive ? plan.room(System.nanoTime()) : 0;
  }

  /** Expected nanoseconds until everything handed to this interpreter has run; -1 when that cannot be told. */
  long nanosUntilIdle() {
    return plan.nanosUntilIdle(System.nanoTime());
  }

  /** Hands a task to this interpreter; call on the owning context. */
  void run(Handoff handoff) {
    boolean idle = plan.inHand() == 0;
    long expectedNanos = runTimes.expectedNanos(handoff.task().functionId());
    plan.add(handoff, expectedNanos, System.nanoTime()).forEach(this::write);
    if (idle) {
      startTimeout(handoff);
    }
    armPlanTimer();
  }

  /**
   * Cancels the task if this interpreter holds it (true if so); its outcome is {@link TaskOutcome#CANCELLED}.
   * One held back is dropped; the one running stops with the process, which the pool replaces as after any
   * exit; one already in the pipe behind it stops the process when its turn comes (Python reads its pipe in
   * order and cannot be told to skip it). Call on the owning context.
   */
  boolean cancel(String taskId) {
    Handoff handoff = plan.find(h -> h.task().taskId().equals(taskId));
    if (handoff == null) {
      return false;
    }
    // Stopped first, so that the pool, hearing of the outcome, hands this interpreter nothing more.
    if (plan.running() == handoff) {
      kill();
    } else if (!plan.removeHeld(handoff)) {
      cancelledInPipe.add(handoff);
    }
    handoff.promise().tryComplete(TaskOutcome.CANCELLED);
    return true;
  }

  /** Stops the process; its tasks are settled when its exit is seen, like any other exit. */
  void kill() {
    alive = false;
    killed = true;
    process.destroyForcibly();
  }

  /** Queues the task for the pipe, with its function only if the runner does not hold it. */
  private void write(Handoff handoff) {
    TaskSpec task = handoff.task();
    String fid = task.functionId();
    // An empty payload (the function was deleted) is sent, never recorded: one registered again is sent anew.
    boolean empty = task.functionPayload().isEmpty();
    boolean withFunction = empty || !sent.contains(fid);
    List<String> forget = withFunction && !empty
        ? sent.put(fid, Boolean.TRUE, task.functionPayload().length()) : List.of();
    writer.execute(() -> send(task, withFunction, forget));
  }

  /**
   * Writes a request as runner.py reads it: a JSON header, then the function's pickle (when {@code withFunction})
   * and the arguments' as raw bytes (decoded from base64 here, on the writer thread, so that Python parses no big
   * string); {@code forget} lists the functions the runner lets go. The arguments are decoded as they are
   * written: a 64 MiB pickle is never held whole a second time.
   */
  private void send(TaskSpec task, boolean withFunction, List<String> forget) {
    try {
      byte[] fn = withFunction ? Base64.getMimeDecoder().decode(task.functionPayload()) : new byte[0];
      Base64Text argsText = new Base64Text(task.argsPayload());
      int args = argsText.decodedLength();
      JsonObject head = new JsonObject().put("task", task.taskId()).put("fid", task.functionId()).put("args", args);
      if (withFunction) {
        head.put("fn", fn.length);
      }
      if (!forget.isEmpty()) {
        head.put("forget", new JsonArray(forget));
      }
      byte[] header = head.toBuffer().getBytes();
      toPython.writeInt(4 + header.length + fn.length + args);
      toPython.writeInt(header.length);
      toPython.write(header);
      toPython.write(fn);
      argsText.decodeTo(toPython);
      toPython.flush();
    } catch (IOException e) {
      // The process died; the reader sees the end of its output and reports the exit.
      LOG.debug("interpreter {}: write failed: {}", number, e.getMessage());
    } catch (IllegalArgumentException e) {
      // Not base64 (the API checks payloads, so never from it): its exit settles the task, as for a crash.
      LOG.warn("interpreter {}: task {} has a payload that is not base64, stopping it", number, task.taskId());
      process.destroyForcibly();
    }
  }

  /**
   * Reads the runner's frames (see runner.py): a reply's raw result pickle is encoded to base64 here, on the
   * reader thread, into the field result, as the rest of the platform carries it.
   */
  private void readReplies() {
    // The process's stream is buffered already. A second buffer on top read it with requests longer than its
    // own, which it answers with an fstat and an ioctl (available()) after every read from the pipe.
    try (DataInputStream fromPython = new DataInputStream(process.getInputStream())) {
      while (true) {
        int length = fromPython.readInt();
        byte[] header = new byte[fromPython.readInt()];
        fromPython.readFully(header);
        byte[] result = new byte[length - 4 - header.length];
        fromPython.readFully(result);
        JsonObject reply = new JsonObject(new String(header, StandardCharsets.UTF_8));
        if (reply.containsKey("result")) {
          // Encoded, then the pickle let go before the text is made: encodeToString held the pickle, its base64
          // and the text at once, 234 MiB for a 64 MiB result, where the default heap ran out in cluster mode.
          byte[] encoded = Base64.getEncoder().encode(result);
          result = null;
          reply.put("result", new String(encoded, StandardCharsets.ISO_8859_1));
        }
        context.runOnContext(v -> onReply(reply));
      }
    } catch (EOFException e) {
      // normal end of the process's output
    } catch (IOException | RuntimeException | OutOfMemoryError e) {
      // a result too big for the heap too: the exit below settles its task, where a dead reader left it running
      resultTooBig = e instanceof OutOfMemoryError;
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
    if (reply.containsKey("output")) {
      onLiveOutput(reply);
      return;
    }
    Handoff head = plan.running();
    if (head == null || !head.task().taskId().equals(reply.getString("task"))) {
      LOG.warn("interpreter {}: reply out of order, stopping it", number);
      if (head != null) {
        plan.dropRunning();
        head.promise().tryComplete(TaskOutcome.platformFailure("RuntimeError",
            "the interpreter running this task answered out of order and was stopped"));
      }
      kill();
      return;
    }
    long now = System.nanoTime();
    cancelTimers();
    headOutput = TaskOutput.NONE;
    runTimes.record(head.task().functionId(), plan.runningNanos(now));
    plan.answered(now).forEach(this::write);
    // The next task in the pipe runs from now on. Its timers are armed before the outcome is delivered: the
    // pool's listeners run inside tryComplete and may hand this interpreter its next task at once.
    Handoff next = plan.running();
    if (next != null && cancelledInPipe.remove(next)) {
      kill(); // its exit gives back the tasks behind the cancelled one
    } else if (next != null) {
      startTimeout(next);
      armPlanTimer();
    }
    head.promise().tryComplete(new TaskOutcome(reply.getBoolean("ok"), reply.getString("result"),
        reply.getString("error"), Protocol.output(reply)));
  }

  /** The runner reports what the running task printed so far; it never does after the task's reply. */
  private void onLiveOutput(JsonObject frame) {
    Handoff head = plan.running();
    if (head != null && head.task().taskId().equals(frame.getString("output"))) {
      headOutput = Protocol.output(frame);
      listener.output(head.task().taskId(), headOutput);
    }
  }

  private void onProcessExit(int exitCode) {
    alive = false;
    cancelTimers();
    writer.shutdownNow();
    cancelledInPipe.clear();
    Handoff head = plan.dropRunning();
    if (head != null) {
      head.promise().tryComplete(TaskOutcome.platformFailure("RuntimeError",
          resultTooBig ? TaskOutcome.RESULT_TOO_BIG_FOR_HEAP : crashMessage(exitCode)).withOutput(headOutput));
    }
    listener.exited(this, plan.clear());
  }

  /** {@code head} runs from now on: its timeout starts. */
  private void startTimeout(Handoff head) {
    Integer requested = head.task().timeoutSeconds();
    long seconds = requested != null ? requested : options.defaultTimeoutSeconds();
    headTimer = context.owner().setTimer(seconds * 1000, id -> {
      headTimer = -1;
      head.promise().tryComplete(TaskOutcome.platformFailure("TimeoutError",
          "the task ran longer than its timeout of " + seconds + " s; its interpreter was stopped")
          .withOutput(headOutput));
      kill();
    });
  }

  /** One timer, replacing any earlier one, for the next instant the plan foresees a change. */
  private void armPlanTimer() {
    if (planTimer >= 0) {
      context.owner().cancelTimer(planTimer);
      planTimer = -1;
    }
    long now = System.nanoTime();
    plan.nextLook(now).ifPresent(at ->
        planTimer = context.owner().setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(at - now)), id -> {
          planTimer = -1;
          onPlanTimer();
        }));
  }

  /** The planned instant came: held tasks go back if the running task overran, and there may be room. */
  private void onPlanTimer() {
    List<Handoff> back = plan.takeBackIfOverran(System.nanoTime());
    if (!back.isEmpty()) {
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
