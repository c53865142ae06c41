package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.task.HeldFunctions;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's half of the Redis model: the durable queue (one stream per environment, each read by the
 * consumer group {@value Keys#DISPATCHERS_GROUP}) and the conditional state transitions of the tasks taken from it.
 * A dispatcher reads the streams of the environments it can run now; the default one alone reads as before.
 * An entry stays pending for its dispatcher until the task ends, so a dispatcher that dies loses nothing:
 * on restart, {@link #claim} with {@code pending} returns what it held.
 */
public final class TaskQueue {
  private static final Logger LOG = LoggerFactory.getLogger(TaskQueue.class);
  private static final Scripts START_TASKS = Scripts.load("task_index.lua", "pieces.lua", "start_tasks.lua");
  private static final Scripts FINISH_TASKS = Scripts.load("task_index.lua", "function_stats.lua", "pieces.lua",
      "finish_tasks.lua");
  private static final Scripts REFRESH_CLAIMS = Scripts.load("refresh_claims.lua");
  private static final Scripts STORE_OUTPUT = Scripts.load("store_output.lua");
  private static final Scripts PROMOTE_DELAYED = Scripts.load("pieces.lua", "promote_delayed.lua");

  /** How many functions' payloads a dispatcher holds, and their bytes at most (a bigger one is held alone). */
  private static final int MAX_FUNCTIONS = 1024;
  private static final long MAX_FUNCTION_BYTES = 64L << 20;

  private final Redis redis;
  private final int piece;
  private final Keys keys;
  private final String consumer;
  private final long keepFinishedSeconds;
  private final ReplicaWait replicas;
  private final Handover handover;
  private final TaskHistograms histograms = new TaskHistograms();
  /** The payloads of the functions of tasks started here, so that each crosses from Redis once. */
  private final HeldFunctions<String> functions = new HeldFunctions<>(MAX_FUNCTIONS, MAX_FUNCTION_BYTES);
  /** Blocking reads hold a connection for their whole wait, so they get one of their own. */
  private Future<RedisConnection> blockingConnection;

  /** {@code keepFinishedSeconds}: how long a finished task (and its result) stays in Redis; 0 keeps it forever. */
  public TaskQueue(Redis redis, Keys keys, String consumer, long keepFinishedSeconds) {
    this(redis, keys, consumer, keepFinishedSeconds, ReplicaWait.NONE);
  }

  /** Outcomes are announced, and {@link #finish} completes, once {@code replicas} hold them. */
  public TaskQueue(Redis redis, Keys keys, String consumer, long keepFinishedSeconds, ReplicaWait replicas) {
    this(redis, keys, consumer, keepFinishedSeconds, replicas, Handover.NONE);
  }

  /** Big arguments and results also pass through {@code handover} from and to an API in this JVM. */
  public TaskQueue(Redis redis, Keys keys, String consumer, long keepFinishedSeconds, ReplicaWait replicas,
      Handover handover) {
    this(redis, keys, consumer, keepFinishedSeconds, replicas, handover, LargeValues.PIECE);
  }

  /** {@code piece}: the longest piece of a stored value (LargeValues.PIECE; shorter in tests). */
  TaskQueue(Redis redis, Keys keys, String consumer, long keepFinishedSeconds, ReplicaWait replicas,
      Handover handover, int piece) {
    this.piece = piece;
    this.redis = redis;
    this.keys = keys;
    this.consumer = consumer;
    this.keepFinishedSeconds = keepFinishedSeconds;
    this.replicas = replicas;
    this.handover = handover;
  }

  public String consumer() {
    return consumer;
  }

  /** Creates the consumer group of the default environment's stream if needed (see {@link #ensureGroups}). */
  public Future<Void> ensureGroup() {
    return ensureGroups(List.of(Environments.DEFAULT));
  }

  /**
   * Creates the consumer group of each environment's stream if needed, from the start of the stream so that
   * no earlier task is missed.
   */
  public Future<Void> ensureGroups(Collection<String> envs) {
    List<Future<Void>> creates = new ArrayList<>(envs.size());
    for (String env : envs) {
      Request create = Request.cmd(Command.XGROUP).arg("CREATE").arg(keys.queue(env))
          .arg(Keys.DISPATCHERS_GROUP).arg("0").arg("MKSTREAM");
      creates.add(redis.send(create).<Void>mapEmpty().recover(err -> err.getMessage() != null
          && err.getMessage().startsWith("BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(err)));
    }
    return Future.all(creates).mapEmpty();
  }

  /** Claims entries of the default environment's stream (see {@link #claim(int, long, boolean, Collection)}). */
  public Future<List<QueueEntry>> claim(int count, long blockMillis, boolean pending) {
    return claim(count, blockMillis, pending, List.of(Environments.DEFAULT));
  }

  /**
   * Claims up to {@code count} entries of each environment's stream, in one call: with {@code pending}, those
   * this consumer already held (after a restart); otherwise new ones, waiting up to {@code blockMillis} for one
   * to arrive in any of them.
   */
  public Future<List<QueueEntry>> claim(int count, long blockMillis, boolean pending, Collection<String> envs) {
    Request read = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(Keys.DISPATCHERS_GROUP).arg(consumer)
        .arg("COUNT").arg(count);
    if (!pending) {
      read.arg("BLOCK").arg(blockMillis);
    }
    read.arg("STREAMS");
    Map<String, String> envOfStream = new HashMap<>();
    for (String env : envs) {
      envOfStream.put(keys.queue(env), env);
      read.arg(keys.queue(env));
    }
    for (int i = 0; i < envs.size(); i++) {
      read.arg(pending ? "0" : ">");
    }
    return connection().compose(conn -> conn.send(read))
        .map(reply -> entries(reply, envOfStream))
        .onFailure(err -> resetConnection());
  }

  /**
   * Takes over up to {@code count} entries of each environment's stream that other dispatchers claimed but have
   * not touched for {@code minIdleMillis} (they died, or no longer run that environment): XAUTOCLAIM moves each
   * to this consumer atomically, so exactly one dispatcher gets it.
   */
  public Future<List<QueueEntry>> takeOver(long minIdleMillis, int count, Collection<String> envs) {
    List<Request> autoclaims = new ArrayList<>(envs.size());
    for (String env : envs) {
      autoclaims.add(Request.cmd(Command.XAUTOCLAIM).arg(keys.queue(env)).arg(Keys.DISPATCHERS_GROUP)
          .arg(consumer).arg(minIdleMillis).arg("0-0").arg("COUNT").arg(count));
    }
    List<String> order = List.copyOf(envs);
    return redis.batch(autoclaims).map(replies -> {
      List<QueueEntry> taken = new ArrayList<>();
      for (int i = 0; i < replies.size(); i++) {
        taken.addAll(parseEntries(replies.get(i).get(1), order.get(i)));
      }
      return taken;
    });
  }

  /**
   * Resets the idle time of every entry this dispatcher holds in the streams of {@code envs}, so that no other
   * takes them over.
   */
  public Future<Void> refresh(Collection<String> envs) {
    List<Future<Response>> refreshes = new ArrayList<>(envs.size());
    for (String env : envs) {
      refreshes.add(REFRESH_CLAIMS.run(redis, List.of(keys.queue(env)),
          List.of(Keys.DISPATCHERS_GROUP, consumer, "100000")));
    }
    return Future.all(refreshes).mapEmpty();
  }

  /**
   * Moves the tasks to RUNNING on {@code worker} in one round trip; each element of the answer is the started
   * task, or null when that one will not run (ended, unknown, out of attempts).
   */
  public Future<List<StartedTask>> start(List<QueueEntry> entries, String worker, int maxAttempts,
      String exhaustedResult, String exhaustedError) {
    List<String> args = new ArrayList<>(List.of(worker, Timestamps.now(), Integer.toString(maxAttempts),
        exhaustedResult, exhaustedError, Keys.DISPATCHERS_GROUP, keys.doneChannel(),
        keys.task(""), Long.toString(keepFinishedSeconds)));
    for (QueueEntry entry : entries) {
      args.add(entry.taskId());
      args.add(entry.entryId());
      args.add(envArg(entry));
    }
    return START_TASKS.run(redis, List.of(keys.queue(), keys.stats(), keys.index()), args)
        .compose(replies -> withPayloads(entries, replies));
  }

  /**
   * The started tasks, with what the script left out read in one batch: the arguments it left out for their
   * size (unless an API in this JVM handed them over; the other pieces of those stored in pieces one more
   * read each), and the payloads of the functions not held here (read once, then held: a function never
   * changes under its id).
   */
  private Future<List<StartedTask>> withPayloads(List<QueueEntry> entries, Response replies) {
    List<Request> reads = new ArrayList<>();
    // Taken now: another call's answer, arriving before this one's reads, may make room by letting them go.
    Map<String, String> fns = new HashMap<>();
    Map<String, String> handed = new HashMap<>();
    Set<String> missing = new LinkedHashSet<>();
    List<String> argKeys = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Response r = replies.get(i);
      if ("RUNNING".equals(r.get(0).toString())) {
        String taskId = entries.get(i).taskId();
        if (r.get(2) == null) {
          String given = handover.takeArguments(taskId);
          if (given != null) {
            handed.put(taskId, given);
          } else {
            reads.add(LargeValues.read(keys.task(taskId), "payload"));
            argKeys.add(keys.task(taskId));
          }
        }
        String fid = r.get(1).toString();
        String fn = functions.get(fid);
        if (fn != null) {
          fns.put(fid, fn);
        } else {
          missing.add(fid);
        }
      }
    }
    int argsReads = argKeys.size();
    missing.forEach(fid -> reads.add(Request.cmd(Command.HGET).arg(keys.function(fid)).arg("payload")));
    Future<List<Response>> read = reads.isEmpty() ? Future.succeededFuture(List.of()) : redis.batch(reads);
    return read.compose(payloads -> {
      int next = argsReads;
      for (String fid : missing) {
        Response fn = payloads.get(next++);
        // A function deleted and expired meanwhile has none: its tasks get an empty payload, as before,
        // and nothing is held for it.
        fns.put(fid, fn == null ? "" : fn.toString());
        if (fn != null) {
          functions.put(fid, fns.get(fid), fns.get(fid).length());
        }
      }
      List<Future<String>> args = new ArrayList<>(argsReads);
      for (int i = 0; i < argsReads; i++) {
        Response payload = payloads.get(i);
        args.add(LargeValues.whole(redis, argKeys.get(i), "payload", payload.get(0), payload.get(1)));
      }
      return Future.all(args).map(whole -> {
        List<StartedTask> started = new ArrayList<>(entries.size());
        int nextArgs = 0;
        for (int i = 0; i < entries.size(); i++) {
          Response r = replies.get(i);
          if (!"RUNNING".equals(r.get(0).toString())) {
            started.add(null);
            continue;
          }
          String payload = handed.get(entries.get(i).taskId());
          if (payload == null) {
            payload = r.get(2) == null ? whole.resultAt(nextArgs++) : r.get(2).toString();
          }
          started.add(startedTask(entries.get(i), r, fns.get(r.get(1).toString()), payload == null ? "" : payload));
        }
        return started;
      });
    });
  }

  private static StartedTask startedTask(QueueEntry entry, Response r, String fn, String payload) {
    String timeout = r.get(4).toString();
    TaskSpec spec = new TaskSpec(entry.taskId(), r.get(1).toString(), fn, payload,
        timeout.isEmpty() ? null : Integer.valueOf(timeout), entry.env());
    return new StartedTask(entry, spec, r.get(3).toInteger());
  }

  /**
   * Stores the outcomes in one round trip, each unless its task has one already, and releases their queue
   * entries; each element of the answer tells whether that outcome was stored. Stored ones count in the
   * latency histograms from the next {@link #flushHistograms}. When replicas must hold the outcomes, it fails
   * with {@link NotReplicatedException} if they do not confirm in time: the dispatcher keeps the outcomes and
   * finishes them again (stored again if a failover lost them), and they are announced only once confirmed.
   */
  public Future<List<Boolean>> finish(List<FinishedTask> outcomes) {
    List<FinishedTask> storable = outcomes.stream().map(TaskQueue::storable).toList();
    return stageBigResults(storable, owners -> finish(storable, owners));
  }

  /** The outcome, or for a result longer than the platform reads back, a failure that says so. */
  private static FinishedTask storable(FinishedTask finished) {
    long length = finished.outcome().result().length();
    if (length <= RedisConfig.MAX_VALUE) {
      return finished;
    }
    return finished.failedInstead("the task's result is " + (length >> 20) + " MiB once base64, over the "
        + (RedisConfig.MAX_VALUE >> 20) + " MiB a stored value may have (docs/payloads.md)");
  }

  /**
   * Writes each big result ahead of finish_tasks.lua, in one transaction per result, as the task's field result
   * with the field result_owner naming the outcome; HSETNX writes neither when another outcome got there first
   * (a late duplicate) or the task has a result already (it ended), so a stored result is never overwritten
   * and the script stores as terminal only the outcome that owns the result. The owner is the queue entry and
   * the worker, the same when a batch is finished again after a failed call. A result in pieces (LargeValues)
   * has its first piece and count written so, and its other pieces once the transaction says the outcome owns
   * it: no other outcome then writes them. Then calls {@code next} with each outcome's owner ('' for an inline
   * result).
   */
  private <T> Future<T> stageBigResults(List<FinishedTask> outcomes, Function<List<String>, Future<T>> next) {
    List<Request> writes = new ArrayList<>();
    List<String> owners = new ArrayList<>(outcomes.size());
    Map<Integer, FinishedTask> inPieces = new HashMap<>(); // by the position of its transaction's EXEC
    for (FinishedTask outcome : outcomes) {
      String result = outcome.outcome().result();
      if (LargeValues.large(result)) {
        String key = keys.task(outcome.entry().taskId());
        String owner = owner(outcome);
        int pieces = LargeValues.pieces(result.length(), piece);
        // one transaction per result: Redis counts a transaction's queued commands against a client's
        // query buffer limit (1 GiB by default)
        writes.add(Request.cmd(Command.MULTI));
        writes.add(Request.cmd(Command.HSETNX).arg(key).arg("result_owner").arg(owner));
        writes.add(Request.cmd(Command.HSETNX).arg(key).arg("result").arg(LargeValues.piece(result, 0, piece)));
        if (pieces > 1) {
          writes.add(Request.cmd(Command.HSETNX).arg(key).arg(LargeValues.countField("result")).arg(pieces));
          writes.add(Request.cmd(Command.HGET).arg(key).arg("result_owner"));
          inPieces.put(writes.size(), outcome);
        }
        writes.add(Request.cmd(Command.EXEC));
        owners.add(owner);
      } else {
        owners.add("");
      }
    }
    if (inPieces.isEmpty()) {
      return LargeValues.writeFirst(redis, writes, () -> next.apply(owners));
    }
    return redis.batch(writes).compose(replies -> {
      List<Supplier<Future<Void>>> others = new ArrayList<>();
      inPieces.forEach((exec, outcome) -> {
        Response owner = replies.get(exec).get(3); // also this outcome's when it is finished again
        if (owner != null && owner.toString().equals(owner(outcome))) {
          others.addAll(LargeValues.otherPieces(redis, keys.task(outcome.entry().taskId()), "result",
              outcome.outcome().result(), piece));
        }
      });
      return LargeValues.inTurn(others, () -> next.apply(owners));
    });
  }

  private static String owner(FinishedTask outcome) {
    return outcome.entry().entryId() + "/" + outcome.worker();
  }

  /**
   * A big result stored here is handed over to an API in this JVM before its task is announced, so that the
   * request woken by the announcement finds it: such a batch's announcements are made here, not by the script,
   * as when replicas must confirm. They then also name the tasks the script found ended already (their
   * waiters read the task, as for any announcement without one), and they wait for the script's answer: one
   * lost (a timeout) is announced when the dispatcher finishes the batch again.
   */
  private Future<List<Boolean>> finish(List<FinishedTask> outcomes, List<String> owners) {
    String finishedAt = Timestamps.now();
    boolean handing = handover.active() && owners.stream().anyMatch(owner -> !owner.isEmpty());
    List<String> args = new ArrayList<>(List.of(Keys.DISPATCHERS_GROUP, keys.doneChannel(), finishedAt,
        Long.toString(keepFinishedSeconds), keys.task(""), replicas.waits() || handing ? "0" : "1"));
    for (int i = 0; i < outcomes.size(); i++) {
      FinishedTask outcome = outcomes.get(i);
      args.add(outcome.entry().taskId());
      args.add(outcome.entry().entryId());
      args.add(envArg(outcome.entry()));
      args.add(outcome.status().name());
      args.add(owners.get(i).isEmpty() ? outcome.outcome().result() : "");
      args.add(outcome.outcome().error() == null ? "" : outcome.outcome().error());
      args.add(outcome.worker());
      addOutput(args, outcome.outcome().output());
      args.add(owners.get(i));
    }
    List<String> scriptKeys = List.of(keys.queue(), keys.stats(), keys.index(), keys.delayed());
    return FINISH_TASKS.run(redis, replicas, scriptKeys, args).map(answer -> {
      Response replies = answer.get(0);
      List<Boolean> stored = new ArrayList<>(outcomes.size());
      double finished = Double.parseDouble(finishedAt);
      for (int i = 0; i < outcomes.size(); i++) {
        Response reply = replies.get(i);
        boolean isStored = reply.type() == ResponseType.MULTI;
        stored.add(isStored);
        if (isStored && handing && !owners.get(i).isEmpty()) {
          FinishedTask outcome = outcomes.get(i);
          handover.putResult(outcome.entry().taskId(), owners.get(i), outcome.outcome().result());
        }
        String created = isStored ? reply.get(0).toString() : "";
        String started = isStored ? reply.get(1).toString() : "";
        if (!created.isEmpty() && !started.isEmpty()) {
          histograms.observe(Double.parseDouble(created), Double.parseDouble(started), finished);
        }
      }
      announce(answer.get(1));
      return stored;
    });
  }

  /** Publishes the announcements finish_tasks.lua held back; one lost only makes its waiters read the task. */
  private void announce(Response announcements) {
    if (announcements.size() > 0) {
      List<Request> publishes = new ArrayList<>(announcements.size());
      announcements.forEach(message -> publishes.add(Request.cmd(Command.PUBLISH).arg(keys.doneChannel())
          .arg(message.toBuffer())));
      redis.batch(publishes).onFailure(err -> LOG.debug("could not announce finished tasks: {}", err.getMessage()));
    }
  }

  /**
   * Stores what a running task printed so far; true when stored, false when the task no longer runs (its
   * final output, stored with its outcome, wins).
   */
  public Future<Boolean> storeOutput(String taskId, TaskOutput output) {
    return STORE_OUTPUT.run(redis, List.of(keys.task(taskId)),
        List.of(output.stdout(), output.stderr(), truncated(output))).map(reply -> reply.toInteger() == 1);
  }

  /** The output arguments of finish_tasks.lua: all empty for a task that printed nothing. */
  private static void addOutput(List<String> args, TaskOutput output) {
    if (output.isEmpty()) {
      args.addAll(List.of("", "", ""));
    } else {
      args.addAll(List.of(output.stdout(), output.stderr(), truncated(output)));
    }
  }

  /** The scripts' name of an entry's stream: '' for the default environment's, else the environment. */
  private static String envArg(QueueEntry entry) {
    return entry.env().equals(Environments.DEFAULT) ? "" : entry.env();
  }

  private static String truncated(TaskOutput output) {
    return output.truncated() ? "1" : "0";
  }

  /**
   * Queues the retries due at {@code now} (seconds since the epoch, as {@link Timestamps#now} writes it), at most
   * {@code count} in one round trip; answers how many left the delayed set.
   */
  public Future<Integer> promoteDue(String now, int count) {
    return PROMOTE_DELAYED.run(redis, List.of(keys.delayed(), keys.queue()),
        List.of(now, Integer.toString(count), keys.task(""))).map(Response::toInteger);
  }

  /** Adds the latency histograms gathered since the last call to the platform's stats, in one round trip. */
  public Future<Void> flushHistograms() {
    return histograms.flush(redis, keys.stats());
  }

  private Future<RedisConnection> connection() {
    if (blockingConnection == null) {
      Promise<RedisConnection> promise = Promise.promise();
      blockingConnection = promise.future();
      redis.connect().onComplete(promise);
      blockingConnection.onSuccess(conn -> conn.exceptionHandler(err -> resetConnection()));
    }
    return blockingConnection;
  }

  private void resetConnection() {
    Future<RedisConnection> old = blockingConnection;
    blockingConnection = null;
    if (old != null) {
      old.onSuccess(RedisConnection::close);
    }
  }

  /** Reads an XREADGROUP reply, as RESP3 (a map by stream) or RESP2 (nested arrays of stream and entries). */
  private static List<QueueEntry> entries(Response reply, Map<String, String> envOfStream) {
    List<QueueEntry> out = new ArrayList<>();
    if (reply == null) {
      return out;
    }
    if (reply.isMap()) {
      for (String stream : reply.getKeys()) {
        out.addAll(parseEntries(reply.get(stream), envOfStream.get(stream)));
      }
    } else {
      for (Response stream : reply) {
        out.addAll(parseEntries(stream.get(1), envOfStream.get(stream.get(0).toString())));
      }
    }
    return out;
  }

  private static List<QueueEntry> parseEntries(Response streamEntries, String env) {
    List<QueueEntry> out = new ArrayList<>();
    for (Response entry : streamEntries) {
      Response fields = entry.get(1);
      // A pending entry deleted meanwhile comes back with nil fields; there is nothing left to run.
      if (fields == null || fields.size() < 2) {
        continue;
      }
      long bytes = fields.size() >= 4 && "bytes".equals(fields.get(2).toString()) ? fields.get(3).toLong() : 0;
      out.add(new QueueEntry(entry.get(0).toString(), fields.get(1).toString(), env, bytes));
    }
    return out;
  }
}
