package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;

import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.function.Supplier;

/**
 * The client-facing half of the Redis model: functions, task creation and task lookups. Each call takes the
 * {@link Tenant} that makes it: what it registers is that tenant's, and a function or task of another tenant is
 * unknown to it (NotFoundException, as for an id Redis does not know) unless it is an admin; the check happens
 * in the same round trip as the call.
 */
public final class TaskStore {
  private static final Scripts CREATE_TASKS = Scripts.load("task_index.lua", "pieces.lua", "create_tasks.lua");
  private static final Scripts REGISTER_FUNCTION = Scripts.load("register_function.lua");
  private static final Scripts DELETE_FUNCTION = Scripts.load("delete_function.lua");
  private static final Scripts CANCEL_TASKS = Scripts.load("task_index.lua", "function_stats.lua", "pieces.lua",
      "cancel_tasks.lua");
  private static final Scripts SHORT_RESULTS = Scripts.load("short_results.lua");
  private static final List<String> SHORT_RESULTS_ARGS = List.of(String.valueOf(LargeValues.INLINE));
  /**
   * Tasks whose short results one script call returns (each the result, or its length when long): Lua holds
   * them all until the call ends, so that a read of thousands of tasks makes several calls.
   */
  private static final int SHORT_RESULTS_A_CALL = 100;

  /** How long a read of tasks may take before Redis counts as down; a big result read apart gets more. */
  private static final long READ_MILLIS = 10_000;
  /** Room for a result of any length: the reader takes it whole, whatever it holds already. */
  private static final LongPredicate ANY_LENGTH = length -> true;

  private final Redis redis;
  private final Keys keys;
  private final long keepEndedSeconds;
  private final ReplicaWait replicas;
  private final Handover handover;
  private final int piece;

  public TaskStore(Redis redis, Keys keys) {
    this(redis, keys, 0);
  }

  /** {@code keepEndedSeconds}: how long a task this store ends (a cancel) stays in Redis; 0 keeps it forever. */
  public TaskStore(Redis redis, Keys keys, long keepEndedSeconds) {
    this(redis, keys, keepEndedSeconds, ReplicaWait.NONE);
  }

  /**
   * A registration or a creation of tasks completes once {@code replicas} hold it, else fails with
   * {@link NotReplicatedException}.
   */
  public TaskStore(Redis redis, Keys keys, long keepEndedSeconds, ReplicaWait replicas) {
    this(redis, keys, keepEndedSeconds, replicas, Handover.NONE);
  }

  /** Big arguments and results also pass through {@code handover} to and from a dispatcher in this JVM. */
  public TaskStore(Redis redis, Keys keys, long keepEndedSeconds, ReplicaWait replicas, Handover handover) {
    this(redis, keys, keepEndedSeconds, replicas, handover, LargeValues.PIECE);
  }

  /** {@code piece}: the longest piece of a stored value (LargeValues.PIECE; shorter in tests). */
  TaskStore(Redis redis, Keys keys, long keepEndedSeconds, ReplicaWait replicas, Handover handover, int piece) {
    this.piece = piece;
    this.redis = redis;
    this.keys = keys;
    this.keepEndedSeconds = keepEndedSeconds;
    this.replicas = replicas;
    this.handover = handover;
  }

  /** Registers a function of no tenant; the same name and payload again answer the id they were registered with. */
  public Future<String> registerFunction(String name, String payload) {
    return registerFunction(name, payload, Retries.UNSET, Tenant.NONE);
  }

  /** Registers a function of {@code owner}'s tenant for the default environment (see the next one). */
  public Future<String> registerFunction(String name, String payload, Retries defaults, Tenant owner) {
    return registerFunction(name, payload, defaults, owner, Environments.DEFAULT);
  }

  /**
   * Registers a function of {@code owner}'s tenant whose tasks take {@code defaults} unless they say otherwise,
   * and run only on interpreters of environment {@code env}. Defaults given, the tenant and the environment make
   * part of what is registered: the same name and payload with other defaults, of another tenant or for another
   * environment, is another function.
   */
  public Future<String> registerFunction(String name, String payload, Retries defaults, Tenant owner, String env) {
    String tenant = owner.name();
    String envArg = env.equals(Environments.DEFAULT) ? "" : env;
    String digest = digest(name, payload, defaults, tenant, envArg);
    List<String> scriptKeys = List.of(keys.functions(), keys.functionByContent(digest), keys.functionsNamed(name),
        keys.tenantFunctions(tenant), keys.tenantFunctionsNamed(tenant, name), keys.environments());
    List<String> args = List.of(UUID.randomUUID().toString(), name, payload, Timestamps.now(),
        keys.functionPrefix(), digest, defaults.maxArg(), defaults.delayArg(), tenant, envArg);
    return REGISTER_FUNCTION.run(redis, replicas, scriptKeys, args).map(Response::toString);
  }

  /**
   * sha256 of the name, a NUL and the payload (then of the retry defaults, when given, then of the tenant, when
   * there is one, then of the environment, when not the default), in hex.
   */
  private static String digest(String name, String payload, Retries defaults, String tenant, String env) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(name.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(payload.getBytes(StandardCharsets.UTF_8));
      if (!defaults.equals(Retries.UNSET)) {
        sha.update(("\0" + defaults.maxArg() + "\0" + defaults.delayArg()).getBytes(StandardCharsets.UTF_8));
      }
      if (!tenant.isEmpty()) {
        sha.update(("\0tenant\0" + tenant).getBytes(StandardCharsets.UTF_8));
      }
      if (!env.isEmpty()) {
        sha.update(("\0env\0" + env).getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
  /**
   * Deletes a function: new tasks of it are refused, while those submitted before still run (its payload
   * stays for {@code keepSeconds}, 0: forever); fails with {@link NotFoundException} if it is unknown or
   * deleted already (or another tenant's).
   */
  public Future<Void> deleteFunction(String id, long keepSeconds, Tenant caller) {
    List<String> args = List.of(id, keys.functionPrefix(), keys.functionsNamed(""), Long.toString(keepSeconds),
        keys.functionByContent(""), keys.functionStats(""), keys.tenantFunctions(""), caller.scope());
    return DELETE_FUNCTION.run(redis, List.of(keys.functions()), args).compose(deleted -> deleted.toInteger() == 1
        ? Future.succeededFuture() : Future.failedFuture(unknownFunction(id)));
  }

  /**
   * A function's name, registration time and environment, and its payload when asked; NotFoundException if
   * unknown (or another tenant's).
   */
  public Future<JsonObject> function(String id, boolean withPayload, Tenant caller) {
    Request hmget = Request.cmd(Command.HMGET).arg(keys.function(id)).arg("name").arg("created_at").arg("tenant")
        .arg("env");
    if (withPayload) {
      hmget.arg("payload");
    }
    Request deleted = Request.cmd(Command.HEXISTS).arg(keys.function(id)).arg("deleted");
    return redis.batch(List.of(hmget, deleted)).compose(replies -> {
      Response f = replies.get(0);
      if (f.get(0) == null || replies.get(1).toInteger() == 1 || !caller.sees(text(f.get(2)))) {
        return Future.failedFuture(unknownFunction(id));
      }
      JsonObject out = new JsonObject().put("function_id", id).put("name", f.get(0).toString())
          .put("created_at", Double.valueOf(f.get(1).toString()))
          .put("env", f.get(3) == null ? Environments.DEFAULT : f.get(3).toString());
      if (withPayload) {
        out.put("payload", f.get(4).toString());
      }
      return Future.succeededFuture(out);
    });
  }

  /**
   * The functions the caller sees (an admin: all, else its tenant's), newest first: {@code function_id},
   * {@code name}, {@code created_at}.
   */
  public Future<List<JsonObject>> functions(Tenant caller, int offset, int limit) {
    return functions(caller.admin() ? keys.functions() : keys.tenantFunctions(caller.name()), offset, limit);
  }

  /** Those of the functions the caller sees registered as {@code name}, as {@link #functions(Tenant, int, int)}. */
  public Future<List<JsonObject>> functionsNamed(Tenant caller, String name, int offset, int limit) {
    return functions(caller.admin() ? keys.functionsNamed(name) : keys.tenantFunctionsNamed(caller.name(), name),
        offset, limit);
  }

  private Future<List<JsonObject>> functions(String listing, int offset, int limit) {
    Request ids = Request.cmd(Command.ZRANGE).arg(listing).arg(offset).arg(offset + limit - 1).arg("REV");
    return redis.send(ids).compose(reply -> {
      List<String> list = new ArrayList<>();
      reply.forEach(r -> list.add(r.toString()));
      if (list.isEmpty()) {
        return Future.succeededFuture(List.of());
      }
      List<Request> reads = list.stream()
          .map(id -> Request.cmd(Command.HMGET).arg(keys.function(id)).arg("name").arg("created_at")).toList();
      return redis.batch(reads).map(rows -> {
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          Response row = rows.get(i);
          if (row.get(0) != null) {
            out.add(new JsonObject().put("function_id", list.get(i)).put("name", row.get(0).toString())
                .put("created_at", Double.valueOf(row.get(1).toString())));
          }
        }
        return out;
      });
    });
  }

  /**
   * A task to create: its id (from {@link #newTaskId}), function, {@code (args, kwargs)} payload, timeout and
   * retries, and who submits it (its function must be the caller's, unless an admin; the caller's
   * {@code maxInFlight} bounds the tasks of the function's tenant in flight).
   */
  public record NewTask(String id, String functionId, String payload, Integer timeoutSeconds, Retries retries,
      Tenant caller) {

    /** A task with its function's retries, submitted by no tenant. */
    public NewTask(String id, String functionId, String payload, Integer timeoutSeconds) {
      this(id, functionId, payload, timeoutSeconds, Retries.UNSET, Tenant.NONE);
    }

    /** A task whose arguments an {@link ArgumentUpload} of its id stored already (its payload is null). */
    public static NewTask uploaded(String id, String functionId, Integer timeoutSeconds, Retries retries,
        Tenant caller) {
      return new NewTask(id, functionId, null, timeoutSeconds, retries, caller);
    }

    public boolean isUploaded() {
      return payload == null;
    }

    /** The characters of payload its creation sends to Redis. */
    public int sentLength() {
      return isUploaded() ? 0 : payload.length();
    }

    /** Its arguments are in Redis before its creation script runs: uploaded, or big and written first. */
    private boolean storedFirst() {
      return isUploaded() || LargeValues.large(payload);
    }
  }

  /** Whether a value {@code length} characters long is stored in pieces, more than one. */
  public boolean inPieces(long length) {
    return length > piece;
  }

  /**
   * Stores the arguments of task {@code taskId}, {@code length} characters of base64 in all, as they arrive,
   * for a {@link NewTask#uploaded} of the same id to create.
   */
  public ArgumentUpload upload(String taskId, long length) {
    return new ArgumentUpload(redis, keys.task(taskId), length, piece);
  }

  /** How the creation of one task went. */
  public enum Creation {
    CREATED,
    /** Its function does not exist, was deleted, or is another tenant's: nothing was stored. */
    UNKNOWN_FUNCTION,
    /** Its tenant had as many tasks in flight as the caller may have: nothing was stored. */
    LIMIT_REACHED
  }

  /** A new task id, for a caller that must watch the task before it exists (a submit that waits for its end). */
  public static String newTaskId() {
    return UUID.randomUUID().toString();
  }

  /**
   * Creates one task per payload, all or none, in one round trip; fails with {@link NotFoundException} for
   * an unknown function. Ids are in the order of the payloads.
   */
  public Future<List<String>> createTasks(String functionId, List<String> payloads, Integer timeoutSeconds) {
    return createTasks(functionId, payloads, timeoutSeconds, Retries.UNSET, Tenant.NONE);
  }

  /**
   * {@link #createTasks(String, List, Integer)} with {@code retries}, by {@code caller}: fails with
   * {@link LimitReachedException} when its tenant would have more tasks in flight than it may.
   */
  public Future<List<String>> createTasks(String functionId, List<String> payloads, Integer timeoutSeconds,
      Retries retries, Tenant caller) {
    List<NewTask> tasks = payloads.stream()
        .map(p -> new NewTask(newTaskId(), functionId, p, timeoutSeconds, retries, caller)).toList();
    if (tasks.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return create(tasks, true).compose(answers -> switch (answers.get(0)) {
      case CREATED -> Future.succeededFuture(tasks.stream().map(NewTask::id).toList());
      case UNKNOWN_FUNCTION -> Future.failedFuture(unknownFunction(functionId));
      case LIMIT_REACHED -> Future.failedFuture(limitReached(caller));
    });
  }

  /** Creates tasks of any functions in one round trip, each atomically on its own; per task, how it went. */
  public Future<List<Creation>> create(List<NewTask> tasks) {
    return create(tasks, false);
  }

  /**
   * A big payload is written first, with plain HSET and an expiry, then the script creates and queues the task
   * (and makes the payload permanent): a task is never queued without its payload. A payload whose task the
   * script refused is deleted; one whose script never ran (the API died between) expires. A big payload is
   * also handed over, before it can be queued, to a dispatcher in this JVM (see {@link Handover}).
   */
  private Future<List<Creation>> create(List<NewTask> tasks, boolean allOrNone) {
    List<String> args = new ArrayList<>(5 + 8 * tasks.size());
    args.add(Timestamps.now());
    args.add(Keys.TASKS_CHANNEL);
    args.add(keys.task(""));
    args.add(keys.function(""));
    args.add(allOrNone ? "1" : "0");
    List<Request> bigPayloads = new ArrayList<>();
    List<Supplier<Future<Void>>> otherPieces = new ArrayList<>();
    for (NewTask task : tasks) {
      boolean large = !task.isUploaded() && LargeValues.large(task.payload());
      if (large) {
        handover.putArguments(task.id(), task.payload());
        bigPayloads.add(LargeValues.firstPiece(keys.task(task.id()), "payload", task.payload(), piece));
        otherPieces.addAll(LargeValues.otherPieces(redis, keys.task(task.id()), "payload", task.payload(), piece));
        bigPayloads.add(Request.cmd(Command.EXPIRE).arg(keys.task(task.id())).arg(LargeValues.ORPHAN_SECONDS));
      }
      args.add(task.id());
      args.add(task.functionId());
      args.add(task.timeoutSeconds() == null ? "" : task.timeoutSeconds().toString());
      args.add(task.storedFirst() ? "" : task.payload());
      args.add(task.retries().maxArg());
      args.add(task.retries().delayArg());
      args.add(task.caller().scope());
      args.add(task.caller().maxInFlight() == 0 ? "" : Integer.toString(task.caller().maxInFlight()));
    }
    Future<Response> created = LargeValues.writeFirst(redis, bigPayloads, () -> LargeValues.inTurn(otherPieces,
        () -> CREATE_TASKS.run(redis, replicas, List.of(keys.queue(), keys.stats(), keys.index()), args)));
    if (!bigPayloads.isEmpty()) {
      created.onFailure(err -> tasks.stream().filter(NewTask::storedFirst)
          .forEach(task -> handover.dropArguments(task.id())));
    }
    return created.map(reply -> {
          List<Creation> answers = new ArrayList<>(tasks.size());
          reply.forEach(r -> answers.add(switch (r.toInteger()) {
            case 1 -> Creation.CREATED;
            case 2 -> Creation.LIMIT_REACHED;
            default -> Creation.UNKNOWN_FUNCTION;
          }));
          dropRefusedPayloads(tasks, answers);
          return answers;
        });
  }

  private void dropRefusedPayloads(List<NewTask> tasks, List<Creation> answers) {
    List<Request> deletes = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      if (answers.get(i) != Creation.CREATED && tasks.get(i).storedFirst()) {
        handover.dropArguments(tasks.get(i).id());
        deletes.add(Request.cmd(Command.DEL).arg(keys.task(tasks.get(i).id())));
      }
    }
    if (!deletes.isEmpty()) {
      // best effort: a payload left behind expires (LargeValues.ORPHAN_SECONDS)
      redis.batch(deletes);
    }
  }

  public static NotFoundException unknownFunction(String functionId) {
    return new NotFoundException("function " + functionId + " not found");
  }

  public static LimitReachedException limitReached(Tenant caller) {
    return new LimitReachedException("this key allows at most " + caller.maxInFlight() + " tasks of tenant "
        + caller.name() + " queued or running at once (max_in_flight), and this submit would pass that; submit "
        + "again when some have ended");
  }

  /** How a cancel went for one task. */
  public enum CancelAnswer {
    /** It had not ended: it ended now, FAILED and cancelled. */
    CANCELLED,
    /** It had ended already (completed or failed): nothing changed. */
    ENDED,
    /** Redis does not know it (never created, or expired): nothing changed. */
    MISSING
  }

  /**
   * Cancels the tasks in one round trip (see cancel_tasks.lua), each with the pickled {@code result} and its
   * {@code error} text; one answer per id, in order (MISSING for another tenant's).
   */
  public Future<List<CancelAnswer>> cancel(List<String> ids, String result, String error, Tenant caller) {
    List<String> args = new ArrayList<>(List.of(Keys.DISPATCHERS_GROUP, keys.doneChannel(), keys.cancelChannel(),
        Timestamps.now(), Long.toString(keepEndedSeconds), keys.task(""), result, error, caller.scope()));
    args.addAll(ids);
    return CANCEL_TASKS.run(redis, List.of(keys.queue(), keys.stats(), keys.index(), keys.delayed()), args).map(reply -> {
      List<CancelAnswer> answers = new ArrayList<>(ids.size());
      reply.forEach(r -> answers.add(switch (r.toString()) {
        case "CANCELLED" -> CancelAnswer.CANCELLED;
        case "MISSING" -> CancelAnswer.MISSING;
        default -> CancelAnswer.ENDED;
      }));
      return answers;
    });
  }

  /** Any task, as an admin sees it. */
  public Future<TaskRecord> task(String id) {
    return task(id, Tenant.NONE);
  }

  public Future<TaskRecord> task(String id, Tenant caller) {
    return task(id, caller, ANY_LENGTH);
  }

  /** The task; its result left out when {@code room} does not admit its length (see {@link #tasks}). */
  public Future<TaskRecord> task(String id, Tenant caller, LongPredicate room) {
    return tasks(List.of(id), caller, room).compose(found -> found.get(0) == null ? Future.failedFuture(notFound(id))
        : Future.succeededFuture(found.get(0)));
  }

  public Future<List<TaskRecord>> tasks(List<String> ids, Tenant caller) {
    return tasks(ids, caller, ANY_LENGTH);
  }

  /**
   * Several tasks in one round trip (three when Redis must load a script first), in order; null for an id Redis
   * does not know (or another's). An ended task's result comes in the same round trip when it is at most
   * {@link LargeValues#INLINE} characters long; a longer one is read apart, only when {@code room} admits its
   * length (the reader holds copies of it: eight reads of one 48 MiB result at once ran the default heap out, and
   * a Redis connection with it), else it is left out ({@link TaskRecord#resultOmitted}). A big result is taken
   * from a dispatcher in this JVM that handed it over, if Redis names the same owner for the stored one, else
   * read. A read not answered in time fails (READ_MILLIS), as Redis down.
   */
  public Future<List<TaskRecord>> tasks(List<String> ids, Tenant caller, LongPredicate room) {
    List<String> taskKeys = ids.stream().map(keys::task).toList();
    List<Request> reads = new ArrayList<>(ids.size() + ids.size() / SHORT_RESULTS_A_CALL + 1);
    taskKeys.forEach(key -> reads.add(TaskCodec.read(key)));
    for (int from = 0; from < taskKeys.size(); from += SHORT_RESULTS_A_CALL) {
      List<String> some = taskKeys.subList(from, Math.min(from + SHORT_RESULTS_A_CALL, taskKeys.size()));
      reads.add(SHORT_RESULTS.call(some, SHORT_RESULTS_ARGS));
    }
    return SHORT_RESULTS.batch(redis, reads).timeout(READ_MILLIS, TimeUnit.MILLISECONDS).compose(replies -> {
      List<Future<TaskRecord>> tasks = new ArrayList<>(ids.size());
      for (int i = 0; i < ids.size(); i++) {
        Response fields = replies.get(i);
        Response result = replies.get(ids.size() + i / SHORT_RESULTS_A_CALL).get(i % SHORT_RESULTS_A_CALL);
        TaskRecord task = caller.sees(TaskCodec.tenant(fields)) ? TaskCodec.fromHash(ids.get(i), fields) : null;
        Response pieces = task == null ? null : TaskCodec.resultPieces(fields);
        boolean whole = result.type() == ResponseType.BULK;
        if (task == null || !task.status().isTerminal() || (!whole && result.toLong() == 0)) {
          tasks.add(Future.succeededFuture(task)); // no result, or one being stored: no one sees it before the end
        } else if (whole && pieces == null) {
          tasks.add(Future.succeededFuture(task.withResult(result.toString())));
        } else {
          long length = whole ? result.toBuffer().length() : result.toLong(); // the first piece's
          tasks.add(withBigResult(task, TaskCodec.owner(fields), pieces, length, room));
        }
      }
      return Future.all(tasks).map(all -> all.<TaskRecord>list());
    });
  }

  /**
   * The ended task with its big result, whose first piece is {@code length} long ({@code pieces}: their count,
   * null when stored whole), the other pieces' lengths read first.
   */
  private Future<TaskRecord> withBigResult(TaskRecord task, String owner, Response pieces, long length,
      LongPredicate room) {
    return pieces == null ? taken(task, owner, length, room)
        : LargeValues.length(redis, keys.task(task.id()), "result", pieces, length)
            .timeout(READ_MILLIS, TimeUnit.MILLISECONDS).compose(total -> taken(task, owner, total, room));
  }

  /**
   * The ended task with its big result of {@code length}, handed over by {@code owner} or read, if {@code room}
   * admits it; else without.
   */
  private Future<TaskRecord> taken(TaskRecord task, String owner, long length, LongPredicate room) {
    String held = handover.takeResult(task.id(), owner); // no longer held, whatever room says
    if (!room.test(length)) {
      return Future.succeededFuture(task.withResultOmitted());
    }
    String key = keys.task(task.id());
    return held != null ? Future.succeededFuture(task.withResult(held))
        : redis.send(LargeValues.read(key, "result"))
            .compose(first -> LargeValues.whole(redis, key, "result", first.get(0), first.get(1), length))
            .timeout(TransferTime.millis(READ_MILLIS, length), TimeUnit.MILLISECONDS).map(task::withResult);
  }

  /** A task's status and what it printed, without reading a possibly large result. */
  public Future<OutputRecord> output(String id, Tenant caller) {
    return redis.send(TaskCodec.readOutput(keys.task(id))).compose(fields -> {
      OutputRecord output = caller.sees(TaskCodec.tenant(fields)) ? TaskCodec.outputFromHash(id, fields) : null;
      return output == null ? Future.failedFuture(notFound(id)) : Future.succeededFuture(output);
    });
  }

  /** Just the status, without reading a possibly large result. */
  public Future<TaskStatus> status(String id, Tenant caller) {
    return redis.send(TaskCodec.readStatus(keys.task(id))).compose(fields -> {
      TaskStatus status = caller.sees(TaskCodec.tenant(fields)) ? TaskCodec.status(fields) : null;
      return status == null ? Future.failedFuture(notFound(id)) : Future.succeededFuture(status);
    });
  }

  private static String text(Response value) {
    return value == null ? null : value.toString();
  }

  private static NotFoundException notFound(String taskId) {
    return new NotFoundException("task " + taskId + " not found");
  }
}
