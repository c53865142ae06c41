package io.mpcsfaas.worker;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed number of long-lived Python interpreters that run tasks. A task goes to the interpreter that will
 * be free soonest among those that can take it: an idle one, or one whose tasks will likely all have run
 * within the lookahead (see {@link PipelinePlan}), which then finds it in its pipe the moment it is free;
 * otherwise it waits in the pool for the first interpreter to free up. An interpreter that exits (a crash, a
 * timeout) fails only the task it was running and is replaced; the tasks queued behind it move to the
 * others. All methods run on the pool's context.
 */
public final class InterpreterPool {
  private static final Logger LOG = LoggerFactory.getLogger(InterpreterPool.class);

  private final Vertx vertx;
  private final Context context;
  private final PoolOptions options;
  private final Path runner;
  private final List<Interpreter> interpreters = new ArrayList<>();
  private final ArrayDeque<Handoff> waiting = new ArrayDeque<>();
  private final RunTimes runTimes;
  private Runnable roomListener = () -> {};
  private BiConsumer<String, TaskOutput> outputListener = (taskId, output) -> {};
  private int started;
  private boolean closed;

  private InterpreterPool(Vertx vertx, PoolOptions options, Path runner, RunTimes runTimes) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.options = options;
    this.runner = runner;
    this.runTimes = runTimes;
  }

  /** Starts the pool's interpreters; call on the context that will use the pool. */
  public static Future<InterpreterPool> start(Vertx vertx, PoolOptions options) {
    return start(vertx, options, new RunTimes());
  }

  /** Starts a pool that plans with {@code runTimes} (which it goes on learning). */
  static Future<InterpreterPool> start(Vertx vertx, PoolOptions options, RunTimes runTimes) {
    InterpreterPool pool = new InterpreterPool(vertx, options, PythonLocator.extractRunner(), runTimes);
    List<Future<Void>> starts = new ArrayList<>();
    for (int i = 0; i < options.size(); i++) {
      starts.add(pool.startInterpreter());
    }
    return Future.all(starts).map(pool);
  }

  /** Tasks the pool can start now or queue behind tasks that will end soon, without making them wait. */
  public int room() {
    int room = 0;
    for (Interpreter interpreter : interpreters) {
      room += interpreter.room();
    }
    return Math.max(0, room - waiting.size());
  }

  /** Interpreters running a task now. */
  public int busy() {
    int busy = 0;
    for (Interpreter interpreter : interpreters) {
      busy += interpreter.inHand() > 0 ? 1 : 0;
    }
    return busy;
  }

  /** Number of interpreter processes the pool keeps running. */
  public int size() {
    return options.size();
  }

  /** Called whenever {@link #room()} may have grown. */
  public void onRoom(Runnable listener) {
    this.roomListener = listener;
  }

  /** Called with what a running task printed so far, while it runs (at most about twice a second per task). */
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    this.outputListener = listener;
  }

  public Future<TaskOutcome> run(TaskSpec task) {
    Promise<TaskOutcome> promise = Promise.promise();
    Handoff handoff = new Handoff(task, promise);
    if (closed) {
      failShutDown(handoff);
      return promise.future();
    }
    promise.future().onComplete(done -> roomMayHaveGrown());
    assign(handoff);
    return promise.future();
  }

  /**
   * Cancels the task wherever the pool holds it: waiting, it is dropped; handed to an interpreter, see
   * {@link Interpreter#cancel} (the one running it is stopped and replaced). Its outcome is
   * {@link TaskOutcome#CANCELLED}; a task the pool does not hold is ignored.
   */
  public void cancel(String taskId) {
    List<Handoff> dropped = new ArrayList<>();
    waiting.removeIf(handoff -> handoff.task().taskId().equals(taskId) && dropped.add(handoff));
    List.copyOf(interpreters).forEach(interpreter -> interpreter.cancel(taskId));
    dropped.forEach(handoff -> handoff.promise().tryComplete(TaskOutcome.CANCELLED));
  }

  public Future<Void> close() {
    closed = true;
    interpreters.forEach(Interpreter::kill);
    waiting.forEach(InterpreterPool::failShutDown);
    waiting.clear();
    return Future.succeededFuture();
  }

  private void assign(Handoff handoff) {
    Interpreter target = freeSoonest();
    if (target == null) {
      waiting.addLast(handoff);
    } else {
      target.run(handoff);
    }
  }

  /** The interpreter that can take a task and will be free soonest; null if none can. */
  private Interpreter freeSoonest() {
    Interpreter best = null;
    long bestUntilIdle = Long.MAX_VALUE;
    for (Interpreter interpreter : interpreters) {
      if (interpreter.canTake()) {
        long untilIdle = interpreter.nanosUntilIdle();
        if (untilIdle < bestUntilIdle) {
          best = interpreter;
          bestUntilIdle = untilIdle;
        }
      }
    }
    return best;
  }

  private void drainWaiting() {
    Interpreter target;
    while (!waiting.isEmpty() && (target = freeSoonest()) != null) {
      target.run(waiting.pollFirst());
    }
  }

  private Future<Void> startInterpreter() {
    int number = ++started;
    return vertx.executeBlocking(() -> Interpreter.start(number, context, options, runner, runTimes, listener))
        .onSuccess(interpreter -> {
          if (closed) {
            interpreter.kill();
            return;
          }
          interpreters.add(interpreter);
          roomMayHaveGrown();
        })
        .mapEmpty();
  }

  /** A task ended, an interpreter started, or a task nears its end: waiting tasks may go, and more may come. */
  private void roomMayHaveGrown() {
    drainWaiting();
    roomListener.run();
  }

  private final Interpreter.Listener listener = new Interpreter.Listener() {
    @Override
    public void mayTakeMore() {
      roomMayHaveGrown();
    }

    @Override
    public void giveBack(List<Handoff> notStarted) {
      waitFirst(notStarted);
      roomMayHaveGrown();
    }

    @Override
    public void exited(Interpreter interpreter, List<Handoff> notStarted) {
      interpreters.remove(interpreter);
      if (closed) {
        notStarted.forEach(InterpreterPool::failShutDown);
        return;
      }
      waitFirst(notStarted);
      roomMayHaveGrown();
      replaceInterpreter();
    }

    @Override
    public void output(String taskId, TaskOutput output) {
      outputListener.accept(taskId, output);
    }
  };

  /**
   * Tasks that were handed to an interpreter and did not start go first, in their order; those cancelled
   * meanwhile (their outcome is known) are dropped.
   */
  private void waitFirst(List<Handoff> notStarted) {
    for (int i = notStarted.size() - 1; i >= 0; i--) {
      if (!notStarted.get(i).promise().future().isComplete()) {
        waiting.addFirst(notStarted.get(i));
      }
    }
  }

  private void replaceInterpreter() {
    startInterpreter().onFailure(err -> {
      LOG.error("could not start a replacement interpreter, retrying in 1 s", err);
      vertx.setTimer(1000, t -> replaceInterpreter());
    });
  }

  private static void failShutDown(Handoff handoff) {
    handoff.promise().tryComplete(
        TaskOutcome.platformFailure("RuntimeError", "the worker shut down before running the task"));
  }
}
