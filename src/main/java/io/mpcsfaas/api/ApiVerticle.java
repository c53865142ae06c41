package io.mpcsfaas.api;

import static io.mpcsfaas.api.BearerKeyHandler.caller;
import static io.mpcsfaas.api.RequestParsing.booleanParam;
import static io.mpcsfaas.api.RequestParsing.cursorParam;
import static io.mpcsfaas.api.RequestParsing.intParam;
import static io.mpcsfaas.api.RequestParsing.jsonBody;
import static io.mpcsfaas.api.RequestParsing.optionalEnv;
import static io.mpcsfaas.api.RequestParsing.optionalMaxResultBytes;
import static io.mpcsfaas.api.RequestParsing.optionalRetries;
import static io.mpcsfaas.api.RequestParsing.optionalTimeout;
import static io.mpcsfaas.api.RequestParsing.pickle;
import static io.mpcsfaas.api.RequestParsing.requiredArray;
import static io.mpcsfaas.api.RequestParsing.requiredString;
import static io.mpcsfaas.api.RequestParsing.statusParam;
import static io.mpcsfaas.api.RequestParsing.uuid;
import static io.mpcsfaas.api.RequestParsing.waitMillis;

import io.mpcsfaas.config.ApiConfig;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Environments;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.store.Completions;
import io.mpcsfaas.store.Handover;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.LimitReachedException;
import io.mpcsfaas.store.NotFoundException;
import io.mpcsfaas.store.OutputRecord;
import io.mpcsfaas.store.PlatformStats;
import io.mpcsfaas.store.Presence;
import io.mpcsfaas.store.NotReplicatedException;
import io.mpcsfaas.store.RedisClients;
import io.mpcsfaas.store.ReplicaWait;
import io.mpcsfaas.store.Retries;
import io.mpcsfaas.store.TaskIndex;
import io.mpcsfaas.store.TaskRecord;
import io.mpcsfaas.store.TaskStore.CancelAnswer;
import io.mpcsfaas.store.TaskStore.NewTask;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.store.TransferTime;
import io.mpcsfaas.store.Tenant;
import io.mpcsfaas.store.TenantStats;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Redis;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API. The four original routes keep the exact shapes existing clients use; every refusal is a
 * JSON {@code {"error": ...}} with a 4xx status, and 503 when Redis cannot be reached. With keys, each request
 * acts as the tenant of its key (docs/tenants.md): the store answers another tenant's function or task as
 * unknown (404), lists only the caller's, and refuses a submit past its key's max_in_flight (429).
 */
public final class ApiVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ApiVerticle.class);
  private static final long STORE_TIMEOUT_MILLIS = 2000;

  /** Longest a request may wait for a task to end ({@code ?wait=}), in seconds. */
  static final int MAX_WAIT_SECONDS = 60;
  /** Most tasks one batch request may create or read. */
  static final int MAX_BATCH = 10_000;
  /** Seconds a client refused for its tenant's tasks in flight is told to wait (no end time is known). */
  static final int RETRY_AFTER_SECONDS = 1;

  private final Handover handover;
  private Redis redis;
  private Keys keys;
  private TaskStore store;
  private TaskIndex index;
  private TaskCreator creator;
  private Presence presence;
  private Completions completions;
  private LiveFeed feed;
  private HttpServer server;
  private Router router;
  private long resultTtlSeconds;
  private KeyRing keyRing;
  private BodyBudget budget;

  public ApiVerticle() {
    this(Handover.NONE);
  }

  /** Big arguments and results also pass through {@code handover} to and from a dispatcher in this JVM. */
  public ApiVerticle(Handover handover) {
    this.handover = handover;
  }

  @Override
  public Future<?> start() {
    ApiConfig conf = ApiConfig.from(config());
    Path keysFile = conf.keysFile().isEmpty() ? null : Path.of(conf.keysFile());
    return vertx.executeBlocking(() -> KeyRing.load(keysFile, conf.key())).compose(ring -> {
      keyRing = ring;
      return serve(conf);
    });
  }

  private Future<HttpServer> serve(ApiConfig conf) {
    resultTtlSeconds = conf.resultTtlSeconds();
    RedisConfig redisConf = RedisConfig.from(config());
    redis = RedisClients.create(vertx, redisConf);
    Keys keys = new Keys(redisConf.prefix());
    this.keys = keys;
    store = new TaskStore(redis, keys, resultTtlSeconds, ReplicaWait.of(redisConf), handover);
    index = new TaskIndex(redis, keys);
    creator = new TaskCreator(store, STORE_TIMEOUT_MILLIS);
    presence = new Presence(redis, keys);
    completions = new Completions(vertx, redis, keys);
    completions.start();
    feed = new LiveFeed(vertx, redis, keys, presence);

    router = Router.router(vertx);
    router.get("/health").handler(this::health);
    ApiDocs.install(router);
    Dashboard.install(router, keyRing.required());
    Route events = router.get("/events");
    if (keyRing.required()) {
      // EventSource cannot send headers: the feed, and only the feed, also takes the key as ?key=
      events.handler(new BearerKeyHandler(keyRing, true));
      router.route().handler(new BearerKeyHandler(keyRing, false));
    }
    events.handler(feed::handle);
    // Bodies are JSON: anything else is refused before the body handler would try to decode a form.
    router.route().handler(RequestParsing::requireJsonContentType);
    budget = BodyBudget.ofHeap();
    router.route().handler(new BodyReader(conf.bodyLimit(), budget, store, STORE_TIMEOUT_MILLIS));
    router.post("/register_function").handler(this::registerFunction);
    router.post("/execute_function").handler(this::executeFunction);
    router.post("/execute_function/batch").handler(this::executeBatch);
    router.post("/results").handler(this::results);
    router.get("/functions").handler(this::listFunctions);
    router.get("/functions/:function_id").handler(this::getFunction);
    router.delete("/functions/:function_id").handler(this::deleteFunction);
    router.get("/tasks").handler(this::listTasks);
    router.get("/workers").handler(ApiVerticle::adminOnly).handler(this::workers);
    router.get("/stats").handler(this::stats);
    router.get("/metrics").handler(ApiVerticle::adminOnly).handler(this::metrics);
    router.post("/cancel/:task_id").handler(this::cancelOne);
    router.post("/cancel").handler(this::cancelMany);
    router.get("/status/:task_id").handler(this::status);
    router.get("/result/:task_id").handler(this::result);
    router.get("/output/:task_id").handler(this::output);
    ErrorResponses.install(router, conf.bodyLimit());

    server = vertx.createHttpServer(serverOptions(conf));
    return server.requestHandler(router).listen(conf.port(), conf.host())
        .recover(err -> Future.failedFuture("the API cannot listen on " + conf.host() + ":" + conf.port()
            + (conf.tls() ? " with --tls-cert " + conf.tlsCert() + " --tls-key " + conf.tlsKey() : "") + ": "
            + err.getMessage()))
        .onSuccess(s -> LOG.info("API listening on port {}{}", s.actualPort(), conf.tls() ? " (HTTPS)" : ""));
  }

  /** With a certificate, HTTPS only: HTTP/2 for clients that offer it through ALPN, else HTTP/1.1. */
  private static HttpServerOptions serverOptions(ApiConfig conf) {
    HttpServerOptions options = new HttpServerOptions();
    if (conf.tls()) {
      options.setSsl(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(conf.tlsCert()).setKeyPath(conf.tlsKey()));
    }
    return options;
  }

  @Override
  public Future<?> stop() {
    feed.close();
    completions.close();
    return redis.close();
  }

  /**
   * Reads the API keys file again (on SIGHUP; any thread): its keys are used from the next request on, unless
   * it cannot be read or is not valid, in which case the keys in use stay and the log says why.
   */
  public void reloadKeys() {
    keyRing.reload();
  }

  /** The routes, for checking that the OpenAPI document lists each one. */
  Router router() {
    return router;
  }

  /** The port the API listens on (useful with port 0). */
  public int port() {
    return server.actualPort();
  }

  private void registerFunction(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    String name = requiredString(body, "name");
    String payload = pickle(body);
    if (payload.length() > RedisConfig.MAX_REPLY) {
      // stored whole, unlike the tasks' values: a dispatcher reads it back in one reply
      throw new ApiError(413, "a function's payload takes at most " + RedisConfig.MAX_REPLY + " bytes ("
          + (RedisConfig.MAX_REPLY >> 20) + " MiB) once base64");
    }
    Retries defaults = optionalRetries(body);
    String env = optionalEnv(body);
    respond(ctx, guard(store.registerFunction(name, payload, defaults, caller(ctx), env))
        .map(id -> new JsonObject().put("function_id", id)), 201);
  }

  /**
   * Creates a task: {@code {task_id}}. With {@code ?wait=S}, answers when the task ends or S seconds pass,
   * with what {@code /result} would say then (a call in one round trip instead of a submit and a poll), but
   * for a big result the heap has no room for then: that is left out, marked {@code "result_omitted": true},
   * for the client to take from {@code /result}.
   */
  private void executeFunction(RoutingContext ctx) {
    if (!SubmitBody.big(ctx)) {
      submit(ctx, Submit.of(ctx));
      return;
    }
    // Off the event loop: reading a big body's base64 and checking its pickle hold a thread for milliseconds per
    // MiB, and every other request of this API would wait behind it.
    offTheLoop(ctx, () -> Submit.of(ctx), submit -> submit(ctx, submit));
  }

  /**
   * Runs {@code work} on a worker thread, then {@code then} with its result back on the event loop. What either
   * throws goes to the failure handler, as it does from a route's own handler: thrown from a callback, a 400 of
   * {@code then} reached no handler, and the request was never answered.
   */
  private <T> void offTheLoop(RoutingContext ctx, Callable<T> work, Consumer<T> then) {
    vertx.executeBlocking(work, false).onComplete(done -> ErrorResponses.answer(ctx, () -> {
      if (done.failed()) {
        ctx.fail(done.cause());
        return;
      }
      try {
        then.accept(done.result());
      } catch (RuntimeException e) {
        ctx.fail(e);
      }
    }));
  }

  /**
   * A submit's body parsed and checked: its fields, its function, and its payload as stored or the upload that
   * stored it already.
   */
  private record Submit(JsonObject fields, String functionId, String payload, PickleUpload upload) {
    static Submit of(RoutingContext ctx) {
      SubmitBody body = SubmitBody.parse(ctx);
      String functionId = uuid(requiredString(body.fields, "function_id"), "function_id");
      PickleUpload upload = PickleUpload.of(ctx);
      return new Submit(body.fields, functionId, upload == null ? body.pickle() : null, upload);
    }
  }

  private void submit(RoutingContext ctx, Submit submit) {
    SubmitBody.release(ctx);
    JsonObject body = submit.fields();
    Integer timeout = optionalTimeout(body);
    Retries retries = optionalRetries(body);
    long waitMillis = waitMillis(ctx);
    PickleUpload upload = submit.upload();
    String id = upload != null ? upload.take() : TaskStore.newTaskId();
    NewTask newTask = upload != null ? NewTask.uploaded(id, submit.functionId(), timeout, retries, caller(ctx))
        : new NewTask(id, submit.functionId(), submit.payload(), timeout, retries, caller(ctx));
    if (waitMillis == 0) {
      respond(ctx, creator.create(newTask).map(created -> new JsonObject().put("task_id", id)), 201);
      return;
    }
    Future<TaskRecord> ended = completions.await(id, waitMillis); // before the task exists: its end cannot be missed
    Tenant caller = newTask.caller(); // not the task, whose payload the wait would hold on to
    Future<TaskRecord> task = creator.create(newTask)
        .compose(created -> ended)
        .compose(announced -> announced != null ? Future.succeededFuture(announced)
            : store.task(id, caller, budget.room(ctx)));
    task.onComplete(done -> completions.cancel(id, ended));
    respondWithTask(ctx, task, 201);
  }

  /** Many tasks of one function in one request, all or none. */
  private void executeBatch(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    String functionId = uuid(requiredString(body, "function_id"), "function_id");
    JsonArray payloads = requiredArray(body, "payloads", MAX_BATCH);
    List<String> checked = new ArrayList<>(payloads.size());
    for (int i = 0; i < payloads.size(); i++) {
      if (!(payloads.getValue(i) instanceof String payload)) {
        throw ApiError.badRequest("payloads[" + i + "] must be a string");
      }
      String problem = PicklePayload.problem(payload);
      if (problem != null) {
        throw ApiError.badRequest("payloads[" + i + "]: " + problem);
      }
      checked.add(payload);
    }
    Integer timeout = optionalTimeout(body);
    Retries retries = optionalRetries(body);
    long bytes = checked.stream().mapToLong(String::length).sum();
    respond(ctx, store.createTasks(functionId, checked, timeout, retries, caller(ctx))
        .timeout(TransferTime.millis(STORE_TIMEOUT_MILLIS, bytes), TimeUnit.MILLISECONDS)
        .map(ids -> new JsonObject().put("task_ids", new JsonArray(ids))), 201);
  }

  /**
   * The results of many tasks; with {@code "wait": S}, answered when all have ended (or, with
   * {@code "return_when": "FIRST_COMPLETED"}, when any has) or S seconds pass. With {@code "max_result_bytes": N},
   * a result longer than N (its base64) is left out, marked {@code "result_omitted": true}, for the client to take
   * from {@code /result} on its own (as a pickle, say): the answer of many big results at once ran the heap out. A
   * big result the heap has no room for at the time is left out the same way.
   */
  private void results(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    JsonArray idsJson = requiredArray(body, "task_ids", MAX_BATCH);
    List<String> ids = new ArrayList<>(idsJson.size());
    for (int i = 0; i < idsJson.size(); i++) {
      if (!(idsJson.getValue(i) instanceof String id)) {
        throw ApiError.badRequest("task_ids[" + i + "] must be a string");
      }
      ids.add(uuid(id, "task_ids[" + i + "]"));
    }
    Object waitValue = body.getValue("wait", 0);
    if (!(waitValue instanceof Number wait) || wait.doubleValue() < 0 || wait.doubleValue() > MAX_WAIT_SECONDS) {
      throw ApiError.badRequest("'wait' must be a number of seconds from 0 to " + MAX_WAIT_SECONDS);
    }
    long waitMillis = (long) (wait.doubleValue() * 1000);
    Object returnWhen = body.getValue("return_when", "ALL_COMPLETED");
    if (!"ALL_COMPLETED".equals(returnWhen) && !"FIRST_COMPLETED".equals(returnWhen)) {
      throw ApiError.badRequest("'return_when' must be ALL_COMPLETED or FIRST_COMPLETED");
    }
    boolean any = "FIRST_COMPLETED".equals(returnWhen);
    long maxResult = optionalMaxResultBytes(body);
    Tenant caller = caller(ctx);
    List<Future<TaskRecord>> ended = waitMillis == 0 ? List.of()
        : ids.stream().map(id -> completions.await(id, waitMillis)).toList();
    LongPredicate room = budget.roomForMany(ctx);
    LongPredicate wanted = length -> length <= maxResult && room.test(length);
    Future<List<TaskRecord>> tasks = store.tasks(ids, caller, wanted).compose(first -> {
      long done = first.stream().filter(t -> t == null || t.status().isTerminal()).count();
      if (ended.isEmpty() || done == ids.size() || (any && done > 0)) {
        return Future.succeededFuture(first);
      }
      for (int i = 0; i < ids.size(); i++) {
        if (first.get(i) == null || first.get(i).status().isTerminal()) {
          completions.cancel(ids.get(i), ended.get(i)); // nothing to wait for
        }
      }
      return (any ? Future.any(ended) : Future.join(ended)).transform(v -> store.tasks(ids, caller, wanted));
    });
    tasks.onComplete(done -> {
      for (int i = 0; i < ended.size(); i++) {
        completions.cancel(ids.get(i), ended.get(i));
      }
    });
    respond(ctx, tasks.map(list -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < ids.size(); i++) {
        TaskRecord task = list.get(i);
        if (task == null) {
          out.add(new JsonObject().put("task_id", ids.get(i)).put("error", "task not found"));
        } else if (task.status().isTerminal() && task.result() != null && task.result().length() > maxResult) {
          // read all the same: the store asks no room for a result this short
          out.add(resultJson(task).putNull("result").put("result_omitted", true));
        } else {
          out.add(resultJson(task));
        }
      }
      return new JsonObject().put("results", out);
    }), 200);
  }

  /** Cancels one task: 200 when it was cancelled now, 409 when it had ended, 404 when unknown. */
  private void cancelOne(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("task_id"), "task_id");
    respond(ctx, cancel(ctx, List.of(id)).compose(answers -> switch (answers.get(0)) {
      case CANCELLED -> Future.succeededFuture(cancelledJson(id));
      case ENDED -> Future.failedFuture(new ApiError(409, endedMessage(id)));
      case MISSING -> Future.failedFuture(new NotFoundException("task " + id + " not found"));
    }), 200);
  }

  /** Cancels many tasks: one entry each, as {@code /cancel/{id}} answers it (an error as its message). */
  private void cancelMany(RoutingContext ctx) {
    JsonArray idsJson = requiredArray(jsonBody(ctx), "task_ids", MAX_BATCH);
    List<String> ids = new ArrayList<>(idsJson.size());
    for (int i = 0; i < idsJson.size(); i++) {
      if (!(idsJson.getValue(i) instanceof String id)) {
        throw ApiError.badRequest("task_ids[" + i + "] must be a string");
      }
      ids.add(uuid(id, "task_ids[" + i + "]"));
    }
    respond(ctx, cancel(ctx, ids).map(answers -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < ids.size(); i++) {
        String id = ids.get(i);
        out.add(switch (answers.get(i)) {
          case CANCELLED -> cancelledJson(id);
          case ENDED -> new JsonObject().put("task_id", id).put("error", endedMessage(id));
          case MISSING -> new JsonObject().put("task_id", id).put("error", "task not found");
        });
      }
      return new JsonObject().put("results", out);
    }), 200);
  }

  private Future<List<CancelAnswer>> cancel(RoutingContext ctx, List<String> ids) {
    return guard(store.cancel(ids, TaskOutcome.CANCELLED.result(), TaskOutcome.CANCELLED.error(), caller(ctx)));
  }

  private static JsonObject cancelledJson(String id) {
    return new JsonObject().put("task_id", id).put("status", "FAILED").put("cancelled", true);
  }

  private static String endedMessage(String id) {
    return "task " + id + " has already ended";
  }

  private void status(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("task_id"), "task_id");
    respond(ctx, guard(store.status(id, caller(ctx))).map(status -> new JsonObject().put("task_id", id)
        .put("status", status.name())), 200);
  }

  /**
   * The task's result; with {@code ?wait=S}, held until the task ends or S seconds pass. A big result the heap
   * has no room for at the time is a 503 marked {@code retry_safe}, with {@code Retry-After}.
   */
  private void result(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("task_id"), "task_id");
    long waitMillis = waitMillis(ctx);
    Tenant caller = caller(ctx);
    LongPredicate room = budget.room(ctx);
    Future<TaskRecord> task;
    if (waitMillis == 0) {
      task = store.task(id, caller, room);
    } else {
      Future<TaskRecord> ended = completions.await(id, waitMillis);
      task = store.task(id, caller, room).compose(first -> first.status().isTerminal()
          ? Future.succeededFuture(first)
          : ended.compose(announced -> announced != null ? Future.succeededFuture(announced)
              : store.task(id, caller, room)));
      task.onComplete(done -> completions.cancel(id, ended));
    }
    respondWithTask(ctx, task.compose(t -> t.resultOmitted() ? Future.failedFuture(noRoomForResult())
        : Future.succeededFuture(t)), 200);
  }

  private ApiError noRoomForResult() {
    return ApiError.retrySafely(503, "the server is busy with other big requests (they may hold "
        + (budget.capacity() >> 20) + " MiB of heap at once): ask for this result again later, or give the "
        + "platform more heap (FAAS_JAVA_OPTS, docs/payloads.md)");
  }

  /**
   * What the task printed: so far while it runs (at most about a second old), all that was kept once it
   * ended. With {@code ?follow=true}, the output itself as it is produced, as text, until the task ends.
   */
  private void output(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("task_id"), "task_id");
    boolean follow = booleanParam(ctx, "follow");
    Tenant caller = caller(ctx);
    Future<OutputRecord> first = guard(store.output(id, caller));
    if (!follow) {
      respond(ctx, first.map(o -> putOutput(new JsonObject().put("task_id", id).put("status", o.status().name()),
          o.output())), 200);
      return;
    }
    first.onComplete(ar -> {
      if (ar.succeeded()) {
        OutputFollower.follow(vertx, ctx.response(), ar.result(), () -> guard(store.output(id, caller)));
      } else {
        fail(ctx, ar.cause());
      }
    });
  }

  /**
   * The original {@code task_id, status, result}, plus the traceback, the worker, the timestamps and what it
   * printed.
   */
  static JsonObject resultJson(TaskRecord t) {
    JsonObject json = new JsonObject().put("task_id", t.id()).put("status", t.status().name())
        .put("result", t.status().isTerminal() ? t.result() : null)
        .put("error", t.error() == null || t.error().isEmpty() ? null : t.error())
        .put("worker", t.worker())
        .put("attempts", t.attempts())
        .put("created_at", seconds(t.createdAt()))
        .put("started_at", seconds(t.startedAt()))
        .put("finished_at", seconds(t.finishedAt()))
        .put("cancelled", t.cancelled());
    if (t.resultOmitted()) {
      json.put("result_omitted", true);
    }
    return putOutput(json, t.output());
  }

  private static JsonObject putOutput(JsonObject json, TaskOutput output) {
    return json.put("stdout", output.stdout()).put("stderr", output.stderr())
        .put("output_truncated", output.truncated());
  }

  private static Double seconds(String timestamp) {
    return timestamp == null ? null : Double.valueOf(timestamp);
  }

  /** 200 when Redis answers and at least one dispatcher announced itself lately, else 503 with the reason. */
  private void health(RoutingContext ctx) {
    guard(presence.liveDispatchers()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(new StorageUnavailableException(ar.cause()));
      } else if (ar.result().isEmpty()) {
        ctx.fail(new ApiError(503, "no dispatcher is running: tasks are queued but nothing runs them"));
      } else {
        JsonArray names = new JsonArray();
        ar.result().forEach(d -> names.add(d.getString("name")));
        ctx.json(new JsonObject().put("status", "ok").put("redis", "ok").put("dispatchers", names));
      }
    });
  }

  /** Registered functions the caller sees, newest first; with {@code ?name=N}, those registered as N. */
  private void listFunctions(RoutingContext ctx) {
    int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
    int limit = intParam(ctx, "limit", 100, 1, 1000);
    String name = ctx.queryParams().get("name");
    Future<List<JsonObject>> list = name == null ? store.functions(caller(ctx), offset, limit)
        : store.functionsNamed(caller(ctx), name, offset, limit);
    respond(ctx, guard(list).map(functions -> new JsonObject().put("functions",
        new JsonArray(new ArrayList<>(functions)))), 200);
  }

  /** 204; tasks submitted before still run, new ones are refused (404) like those of an unknown function. */
  private void deleteFunction(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("function_id"), "function_id");
    guard(store.deleteFunction(id, resultTtlSeconds, caller(ctx))).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(204).end();
      } else {
        fail(ctx, ar.cause());
      }
    });
  }

  private void getFunction(RoutingContext ctx) {
    String id = uuid(ctx.pathParam("function_id"), "function_id");
    boolean payload = "true".equalsIgnoreCase(ctx.queryParams().get("payload"));
    respond(ctx, guard(store.function(id, payload, caller(ctx))), 200);
  }

  /** A page of the caller's tasks, newest first, by status and function (either, both, or neither). */
  private void listTasks(RoutingContext ctx) {
    TaskStatus status = statusParam(ctx);
    String functionId = ctx.queryParams().get("function_id");
    if (functionId != null) {
      functionId = uuid(functionId, "function_id");
    }
    int limit = intParam(ctx, "limit", 50, 1, 1000);
    TaskIndex.Cursor after = cursorParam(ctx);
    respond(ctx, guard(index.page(caller(ctx), status, functionId, limit, after)).map(page -> {
      JsonArray tasks = new JsonArray();
      for (TaskIndex.Entry t : page.tasks()) {
        tasks.add(new JsonObject().put("task_id", t.taskId()).put("function_id", t.functionId())
            .put("status", t.status().name()).put("created_at", seconds(t.createdAt()))
            .put("started_at", seconds(t.startedAt())).put("finished_at", seconds(t.finishedAt()))
            .put("attempts", t.attempts()).put("worker", t.worker()));
      }
      return new JsonObject().put("tasks", tasks).put("next_cursor", page.next() == null ? null : page.next().encode());
    }), 200);
  }

  /**
   * The workers of every live dispatcher (in local mode, each dispatcher's interpreter pool), each with the
   * environments it offers, and the environments offered and waited for (see {@link PlatformStats#environments}).
   */
  private void workers(RoutingContext ctx) {
    Future<PlatformStats> stats = guard(PlatformStats.read(redis, keys));
    Future<List<JsonObject>> dispatchers = guard(presence.liveDispatchers());
    respond(ctx, Future.all(stats, dispatchers).map(v -> {
      JsonArray workers = new JsonArray();
      for (JsonObject dispatcher : dispatchers.result()) {
        dispatcher.getJsonArray("workers", new JsonArray()).forEach(w ->
            workers.add(((JsonObject) w).copy().put("dispatcher", dispatcher.getString("name"))));
      }
      return new JsonObject().put("workers", workers)
          .put("environments", stats.result().environments(offered(dispatchers.result())));
    }), 200);
  }

  /** The environments the workers of the live dispatchers offer. */
  private static List<String> offered(List<JsonObject> dispatchers) {
    Set<String> offered = new TreeSet<>();
    for (JsonObject dispatcher : dispatchers) {
      dispatcher.getJsonArray("workers", new JsonArray()).forEach(w ->
          ((JsonObject) w).getJsonArray("envs", new JsonArray().add(Environments.DEFAULT))
              .forEach(env -> offered.add(String.valueOf(env))));
    }
    return List.copyOf(offered);
  }

  /**
   * Counters, queue depth and workers as JSON (what {@code ./faas status} shows). A tenant that is no admin gets
   * its own counters, its tasks queued and running (as in_flight), and the dispatchers without their workers.
   */
  private void stats(RoutingContext ctx) {
    Tenant caller = caller(ctx);
    if (!caller.admin()) {
      tenantStats(ctx, caller.name());
      return;
    }
    Future<PlatformStats> stats = guard(PlatformStats.read(redis, keys));
    Future<List<JsonObject>> dispatchers = guard(presence.liveDispatchers());
    respond(ctx, Future.all(stats, dispatchers).map(v -> {
      PlatformStats s = stats.result();
      return new JsonObject().put("submitted", (long) s.counter("submitted"))
          .put("completed", (long) s.counter("completed")).put("failed", (long) s.counter("failed"))
          .put("queued", s.queued()).put("in_flight", s.claimed())
          .put("environments", s.environments(offered(dispatchers.result())))
          .put("dispatchers", new JsonArray(new ArrayList<>(dispatchers.result())));
    }), 200);
  }

  private void tenantStats(RoutingContext ctx, String tenant) {
    Future<TenantStats> own = guard(TenantStats.read(redis, keys, tenant));
    Future<List<JsonObject>> dispatchers = guard(presence.liveDispatchers());
    respond(ctx, Future.all(own, dispatchers).map(v -> {
      TenantStats s = own.result();
      JsonArray withoutWorkers = new JsonArray();
      dispatchers.result().forEach(d -> withoutWorkers.add(d.copy().put("workers", new JsonArray())));
      return new JsonObject().put("submitted", s.submitted()).put("completed", s.completed())
          .put("failed", s.failed()).put("queued", s.queued()).put("in_flight", s.running())
          .put("dispatchers", withoutWorkers);
    }), 200);
  }

  /** Prometheus text: task counters, queue depth, latency histograms and worker slots, platform-wide. */
  private void metrics(RoutingContext ctx) {
    Future<PlatformStats> stats = guard(PlatformStats.read(redis, keys));
    Future<List<JsonObject>> dispatchers = guard(presence.liveDispatchers());
    Future.all(stats, dispatchers).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(new StorageUnavailableException(ar.cause()));
        return;
      }
      ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
          .end(PrometheusText.render(stats.result(), dispatchers.result()));
    });
  }



  /** 403 for a tenant that is no admin: the workers and the platform's metrics are the operators'. */
  private static void adminOnly(RoutingContext ctx) {
    if (caller(ctx).admin()) {
      ctx.next();
    } else {
      ctx.fail(new ApiError(403, "only an admin key may read " + ctx.request().path()));
    }
  }

  /** A Redis call that may not take longer than {@value #STORE_TIMEOUT_MILLIS} ms; else Redis counts as down. */
  private static <T> Future<T> guard(Future<T> call) {
    return call.timeout(STORE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Answers with the future's JSON, or lets the router's failure handler explain what went wrong. */
  private void respond(RoutingContext ctx, Future<JsonObject> reply, int status) {
    reply.onComplete(ar -> ErrorResponses.answer(ctx, () -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
            .end(ar.result().toBuffer());
      } else {
        fail(ctx, ar.cause());
      }
    }));
  }

  /**
   * Answers with a task ({@link TaskAnswer}). The answer of a big result is built off the event loop: decoding
   * or writing it would hold the loop, and every other request of this API behind it, for milliseconds per MiB.
   */
  private void respondWithTask(RoutingContext ctx, Future<TaskRecord> task, int status) {
    boolean pickle = PickleBody.accepted(ctx);
    task.onComplete(ar -> {
      if (ar.succeeded() && TaskAnswer.big(ar.result())) {
        offTheLoop(ctx, () -> TaskAnswer.of(ar.result(), pickle), answer -> answer.send(ctx, status));
        return;
      }
      ErrorResponses.answer(ctx, () -> {
        if (ar.succeeded()) {
          TaskAnswer.of(ar.result(), pickle).send(ctx, status);
        } else {
          fail(ctx, ar.cause());
        }
      });
    });
  }

  /**
   * 404 for an unknown id (or another tenant's), 429 for a tenant with too many tasks in flight, the refusal a
   * route decided on (a 409), 503 for a write too few replicas confirmed (stored, maybe: see docs/sentinel.md),
   * 503 for a heap too small for the request, else Redis could not answer (503).
   */
  private static void fail(RoutingContext ctx, Throwable cause) {
    if (cause instanceof NotFoundException) {
      ctx.fail(new ApiError(404, cause.getMessage()));
    } else if (cause instanceof LimitReachedException) {
      ctx.fail(ApiError.retrySafely(429, cause.getMessage()));
    } else if (cause instanceof NotReplicatedException unconfirmed) {
      ctx.fail(ApiError.retryLater(503, unconfirmed.getMessage() + "; it may be stored or lost, and a submit "
          + "sent again is a new task (docs/sentinel.md)"));
    } else if (cause instanceof ApiError || cause instanceof OutOfMemoryError) {
      ctx.fail(cause);
    } else {
      ctx.fail(new StorageUnavailableException(cause));
    }
  }
}
