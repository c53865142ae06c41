package io.mpcsfaas.dispatch;

import io.mpcsfaas.async.Backoff;
import io.mpcsfaas.async.GroupCommit;
import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves tasks from the durable queue to an {@link ExecutionBackend} and their outcomes back. It claims no
 * more tasks than the backend has room for plus {@code prefetch} (a task holds its claim until its outcome is
 * stored, not only while it runs), and none while the backend has no worker
 * (its workers may have moved to another dispatcher), so the rest wait in the queue for any dispatcher; a
 * claimed task stays pending in the queue until its outcome is stored, so a crash loses nothing. It reads the
 * queues of the environments its backend offers, and hands a task over only while the backend has room for its
 * environment. Single-threaded: its methods, its timers and the answers of its queue and backend all run on one
 * context.
 */
final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  private static final long MAX_BACKOFF_MILLIS = 5000;
  /** The most entries taken back in one call after a restart. */
  private static final int MAX_RECOVERED = 10_000;
  /**
   * Stores of one batch that may run the heap out before its biggest outcome is stored as a failure instead:
   * the heap may be full of other big values for a while, but one outcome too big for it would retry forever.
   */
  static final int HEAP_ATTEMPTS = 5;

  private final DispatchQueue queue;
  private final ExecutionBackend backend;
  private final Timers timers;
  private final int prefetch;
  private final Backoff backoff = new Backoff(MAX_BACKOFF_MILLIS);
  private final GroupCommit<FinishedTask> outcomes;
  /**
   * The heap the arguments of big tasks hold from their start to the end of their run: the dispatcher reads them,
   * puts them in a message to a worker and, with a worker in its JVM, that worker holds them until the task
   * ends. Sixteen tasks of a 16 MiB argument, started at once by a dispatcher with eight slots, ran a 256 MiB heap
   * out (the embedded worker's ZeroMQ thread died, and no task ended after). A big task that does not fit stays in
   * the backlog, and the big ones behind it with it, in their order, while small tasks pass.
   */
  private final HeapBudget arguments;
  /** Claimed entries not yet handed to the backend: recovered after a restart, taken over, or to run again. */
  private final ArrayDeque<QueueEntry> backlog = new ArrayDeque<>();
  /** Tasks whose start call is on its way, and those of them cancelled meanwhile (not to be handed over). */
  private final Set<String> launching = new HashSet<>();
  private final Set<String> cancelledWhileLaunching = new HashSet<>();
  private final Promise<Void> firstReady = Promise.promise();
  /** The environments whose queues it reads: their groups made and what it held there taken back. */
  private final Set<String> joined = new LinkedHashSet<>();
  /** Entries on their way to RUNNING, by environment: room the backend still counts as free. */
  private final Map<String, Integer> startingByEnv = new HashMap<>();
  private int starting;
  /**
   * Tasks that ended whose outcome is not stored yet: still pending in the queue. Counted against the claim, or
   * a backend that ends tasks faster than their outcomes are stored would claim on without bound.
   */
  private int unstored;
  /** Stores that ran the heap out since one last succeeded. */
  private int heapFailures;
  private boolean reading;
  private boolean joining;
  private boolean ready;
  private boolean stopped;

  Dispatcher(DispatchQueue queue, ExecutionBackend backend, Timers timers, int prefetch, HeapBudget arguments) {
    this.queue = queue;
    this.backend = backend;
    this.timers = timers;
    this.prefetch = prefetch;
    this.arguments = arguments;
    // Storing an outcome twice changes nothing, so a batch that failed goes again, ahead of what gathered
    // meanwhile: an outcome in hand is never dropped, though one that keeps running the heap out is replaced.
    this.outcomes = new GroupCommit<>(Dispatcher::bytes, this::store, (batch, gathered, err) -> {
      if (err instanceof OutOfMemoryError && ++heapFailures >= HEAP_ATTEMPTS) {
        heapFailures = 0;
        failBiggest(batch);
      }
      gathered.addAll(0, batch);
      Promise<Void> due = Promise.promise();
      retryLater(err, due::complete);
      return due.future();
    });
  }

  /** Stores a batch of outcomes; once stored, their claims are released and as many new ones may be made. */
  private Future<Void> store(List<FinishedTask> batch) {
    return queue.finish(batch).onSuccess(v -> {
      heapFailures = 0;
      unstored -= batch.size();
      fill();
    });
  }

  /** Starts dispatching; the future completes when this dispatcher first runs tasks (after its recovery). */
  Future<Void> start() {
    backend.onRoom(this::fill);
    backend.onOutput(this::storeOutput);
    connect();
    return firstReady.future();
  }

  /** Claims nothing more and retries nothing; the tasks already handed over still have their outcomes stored. */
  void stop() {
    stopped = true;
  }

  /**
   * A task was cancelled (its end is stored already, and its queue entry released): if this dispatcher holds
   * it, it does not run it. One in the backlog is dropped, one being started is not handed over, and one the
   * backend runs is stopped there (its outcome, stored as usual, is then ignored).
   */
  void cancel(String taskId) {
    backlog.removeIf(entry -> entry.taskId().equals(taskId));
    if (launching.contains(taskId)) {
      cancelledWhileLaunching.add(taskId);
    }
    backend.cancel(taskId);
  }

  /**
   * Makes sure the consumer group exists and takes back what this dispatcher held before a restart. Only
   * then does it claim new tasks (else the recovery would read those claims back as its own old ones and
   * run them twice).
   */
  private void connect() {
    ready = false;
    Set<String> envs = new LinkedHashSet<>(backend.envs());
    queue.ensureGroups(envs)
        .compose(v -> queue.claimPending(MAX_RECOVERED, envs))
        .onSuccess(recovered -> {
          if (stopped) {
            return;
          }
          joined.clear();
          joined.addAll(envs);
          backlog.clear();
          backlog.addAll(recovered);
          backoff.reset();
          ready = true;
          LOG.info("dispatcher {} ready ({} tasks recovered)", queue.consumer(), backlog.size());
          firstReady.tryComplete();
          fill();
        })
        .onFailure(err -> retryLater(err, this::connect));
  }

  /**
   * Reads the queues of environments the backend offers since the last call (a worker that offers them
   * registered): makes their groups and takes back what it held there before a restart, then claims new ones.
   */
  private void joinOffered() {
    if (joining || joined.containsAll(backend.envs())) {
      return;
    }
    List<String> fresh = backend.envs().stream().filter(env -> !joined.contains(env)).toList();
    joining = true;
    queue.ensureGroups(fresh)
        .compose(v -> queue.claimPending(MAX_RECOVERED, fresh))
        .onComplete(ar -> {
          joining = false;
          if (ar.failed()) {
            retryLater(ar.cause(), this::fill);
            return;
          }
          joined.addAll(fresh);
          backlog.addAll(ar.result());
          LOG.info("dispatcher {} reads the queues of environments {} ({} tasks recovered)", queue.consumer(), fresh,
              ar.result().size());
          fill();
        });
  }

  /** The environments whose queues it reads now: those it joined that the backend still offers. */
  private Collection<String> readable() {
    Set<String> offered = backend.envs();
    if (offered.size() == joined.size() && joined.containsAll(offered)) {
      return joined;
    }
    return joined.stream().filter(offered::contains).toList();
  }

  /**
   * Several dispatchers may share one queue: this one keeps the entries it holds fresh, and takes over
   * those another dispatcher left untouched for {@code dispatcher.takeover_ms} (it died), if it has workers to
   * run them. Claimed tasks of an environment the backend no longer offers (its workers left) are let go
   * instead: once idle that long, a dispatcher that offers it takes them over. Called on a timer.
   */
  void keepClaims() {
    if (!ready || stopped) {
      return;
    }
    Set<String> offered = backend.envs();
    backlog.removeIf(entry -> !offered.contains(entry.env()));
    Collection<String> envs = List.copyOf(readable());
    queue.refresh(envs)
        .compose(v -> backend.hasWorkers() && backlog.size() < prefetch
            ? queue.takeOver(prefetch - backlog.size(), envs) : Future.succeededFuture(List.<QueueEntry>of()))
        .onSuccess(taken -> {
          if (!taken.isEmpty()) {
            LOG.info("took over {} tasks of a dispatcher that stopped", taken.size());
            backlog.addAll(taken);
            fill();
          }
        })
        .onFailure(err -> LOG.debug("could not refresh claims: {}", err.getMessage()));
  }

  /**
   * Hands claimed tasks to the backend while it has room, and keeps {@code prefetch} more claimed in the
   * backlog, so that a freed slot never waits for a round trip to the queue; called whenever that room may
   * have grown.
   */
  private void fill() {
    if (stopped || !ready) {
      return;
    }
    joinOffered();
    List<QueueEntry> batch = runnable();
    if (!batch.isEmpty()) {
      launch(batch);
    }
    int wanted = backend.hasWorkers() ? Math.max(0, room()) + prefetch - backlog.size() - unstored : 0;
    if (reading || wanted <= 0) {
      return;
    }
    reading = true;
    queue.claimNew(wanted, readable()).onComplete(ar -> {
      reading = false;
      if (ar.failed()) {
        // NOGROUP: Redis lost the queue (restarted without persistence, flushed): create it again.
        boolean lostGroup = String.valueOf(ar.cause().getMessage()).startsWith("NOGROUP");
        retryLater(ar.cause(), lostGroup ? this::connect : this::fill);
        return;
      }
      backoff.reset();
      backlog.addAll(ar.result());
      fill();
    });
  }

  /**
   * Takes from the backlog, in order, the entries the backend has room for now, each within the room of its
   * environment and, with big arguments, within the heap's ({@link #arguments}); the others stay.
   */
  private List<QueueEntry> runnable() {
    List<QueueEntry> batch = new ArrayList<>();
    int left = room();
    if (left <= 0 || backlog.isEmpty()) {
      return batch;
    }
    Map<String, Integer> roomByEnv = new HashMap<>();
    boolean bigWait = false; // once one big task waits, those behind it wait too: they keep their order
    for (Iterator<QueueEntry> it = backlog.iterator(); it.hasNext() && left > 0; ) {
      QueueEntry entry = it.next();
      int envRoom = roomByEnv.computeIfAbsent(entry.env(), this::room);
      if (envRoom > 0) {
        long bytes = HeapBudget.bytesFor(entry.bytes());
        if (bytes > 0 && (bigWait || !arguments.reserve(bytes, 0))) {
          bigWait = true;
          continue;
        }
        it.remove();
        batch.add(entry);
        roomByEnv.put(entry.env(), envRoom - 1);
        left--;
      }
    }
    return batch;
  }

  private int room() {
    return backend.room() - starting;
  }

  private int room(String env) {
    return backend.room(env) - startingByEnv.getOrDefault(env, 0);
  }

  /** Moves the tasks to RUNNING in one round trip, then hands those that will run to the backend. */
  private void launch(List<QueueEntry> entries) {
    starting += entries.size();
    entries.forEach(entry -> {
      launching.add(entry.taskId());
      startingByEnv.merge(entry.env(), 1, Integer::sum);
    });
    queue.start(entries).onComplete(ar -> {
      starting -= entries.size();
      entries.forEach(entry -> {
        launching.remove(entry.taskId());
        startingByEnv.merge(entry.env(), -1, Integer::sum);
      });
      if (ar.failed()) {
        entries.forEach(this::release);
        for (int i = entries.size() - 1; i >= 0; i--) {
          if (!cancelledWhileLaunching.remove(entries.get(i).taskId())) {
            backlog.addFirst(entries.get(i));
          }
        }
        retryLater(ar.cause(), this::fill);
        return;
      }
      for (int i = 0; i < entries.size(); i++) {
        StartedTask task = ar.result().get(i);
        boolean cancelled = cancelledWhileLaunching.remove(entries.get(i).taskId());
        if (task != null && !cancelled) {
          run(entries.get(i), task);
        } else {
          release(entries.get(i));
        }
      }
      fill();
    });
  }

  private void run(QueueEntry entry, StartedTask task) {
    backend.run(task.spec()).onComplete(ar -> {
      boolean released = release(entry);
      if (ar.succeeded()) {
        unstored++;
        outcomes.add(new FinishedTask(entry, ar.result().outcome(), ar.result().worker()));
        if (released) {
          fill(); // a big task waiting may fit now
        }
      } else {
        LOG.info("task {} lost its worker ({}); it will run again", entry.taskId(), ar.cause().getMessage());
        backlog.addLast(entry);
        fill();
      }
    });
  }

  /** Releases what the entry's arguments reserved of the heap when it was launched; true if they reserved any. */
  private boolean release(QueueEntry entry) {
    long bytes = HeapBudget.bytesFor(entry.bytes());
    arguments.release(bytes);
    return bytes > 0;
  }

  /**
   * Stores a running task's live output. Not retried: the next report, or the output stored with the task's
   * outcome, supersedes it.
   */
  private void storeOutput(String taskId, TaskOutput output) {
    queue.storeOutput(taskId, output)
        .onFailure(err -> LOG.debug("could not store the output of task {}: {}", taskId, err.getMessage()));
  }

  private void retryLater(Throwable err, Runnable action) {
    if (stopped) {
      return;
    }
    long delay = backoff.next();
    LOG.warn("Redis unavailable ({}); retrying in {} ms", err.getMessage(), delay);
    timers.setTimer(delay, action);
  }

  /** Replaces the biggest outcome of {@code batch} by a failure that says its result did not fit the heap. */
  private static void failBiggest(List<FinishedTask> batch) {
    int biggest = 0;
    for (int i = 1; i < batch.size(); i++) {
      if (bytes(batch.get(i)) > bytes(batch.get(biggest))) {
        biggest = i;
      }
    }
    FinishedTask finished = batch.get(biggest);
    LOG.warn("the outcome of task {} ran the heap out {} times on its way to Redis; it is stored as a failure",
        finished.entry().taskId(), HEAP_ATTEMPTS);
    batch.set(biggest, finished.failedInstead(TaskOutcome.RESULT_TOO_BIG_FOR_HEAP));
  }

  private static long bytes(FinishedTask finished) {
    String error = finished.outcome().error();
    TaskOutput output = finished.outcome().output();
    return finished.outcome().result().length() + (error == null ? 0 : error.length())
        + output.stdout().length() + output.stderr().length();
  }
}
