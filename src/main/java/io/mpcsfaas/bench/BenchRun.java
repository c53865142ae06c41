package io.mpcsfaas.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One bench run against any server with the four original endpoints: {@code concurrency} clients, each
 * submitting a task and waiting for its result before the next. A client asks the submit itself to wait
 * ({@code POST /execute_function?wait=}): a server that answers with the task's end saves the result request;
 * one that answers with the task id alone gets {@code GET /result} requests as the original clients send.
 * {@code twoStep} always submits first and then asks for the result. Every result is checked against the
 * value the workload must return. Runs on one event loop, so its counters need no locks.
 */
final class BenchRun {
  /**
   * What to run. {@code durationSeconds} > 0 runs for that long instead of {@code tasks} tasks; {@code ca}: the
   * PEM certificates an https server is trusted by (null: the JVM's authorities).
   */
  record Options(String url, String workload, int tasks, int concurrency, double durationSeconds,
      boolean twoStep, String ca) {}

  /**
   * What a run measured; latencies in milliseconds, breakdown medians from the server's timestamps.
   * {@code submitP50} is the time to the task id of the submits answered with the id alone (NaN: none).
   */
  record Result(Options options, int completed, int failed, String firstFailure, double seconds,
      double tasksPerSecond, double p50, double p90, double p99, double max,
      double submitP50, double queueWaitP50, double runP50, double resultP50) {}

  static final int WAIT_SECONDS = 30;
  /** A request unanswered this long counts as failed, so that a server that hangs cannot hang the bench. */
  static final long REQUEST_TIMEOUT_MILLIS = (WAIT_SECONDS + 30) * 1000L;

  private final Vertx vertx;
  private final Options options;
  private final Workload workload;
  private final BenchHttp client;
  private final Progress progress;
  private final Promise<Result> done = Promise.promise();
  private final double[] latency;
  private final double[] queueWait;
  private final double[] run;
  private final double[] resultTime;
  private final double[] submitTime;
  private List<Buffer> submits;
  private long startNanos;
  private int started;
  private int finished;
  private int failed;
  private int idOnlySubmits;
  private int activeClients;
  private String firstFailure;

  private BenchRun(Vertx vertx, BenchHttp client, Options options, Workload workload, Progress progress) {
    this.vertx = vertx;
    this.options = options;
    this.workload = workload;
    this.client = client;
    this.progress = progress;
    int capacity = options.durationSeconds() > 0 ? 1 << 22 : options.tasks();
    latency = new double[capacity];
    queueWait = new double[capacity];
    run = new double[capacity];
    resultTime = new double[capacity];
    submitTime = new double[capacity];
  }

  /** Now, in seconds since the epoch with microseconds, to compare with the server's timestamps. */
  static double wallSeconds() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() + now.getNano() / 1e9;
  }

  /** A client of the measured server with one kept-alive connection per bench client. */
  static BenchHttp http(Vertx vertx, Options options) {
    return new BenchHttp(vertx, options.url(), options.ca(), options.concurrency(), REQUEST_TIMEOUT_MILLIS);
  }

  /**
   * Runs on {@code client}, which a warm-up run may have used before: its connections are then open and
   * warm, so that the measured run does not time 64 TCP handshakes. {@code progress} shows the tasks ended.
   */
  static Future<Result> start(Vertx vertx, BenchHttp client, Options options, Workload workload,
      Progress progress) {
    BenchRun bench = new BenchRun(vertx, client, options, workload, progress);
    vertx.runOnContext(v -> bench.begin());
    return bench.done.future();
  }

  private void begin() {
    register(client, workload, "bench-" + workload.name()).onFailure(done::fail).onSuccess(id -> {
      submits = submitBodies(id, workload);
      startNanos = System.nanoTime();
      progress.follow(vertx, options.durationSeconds() > 0 ? 0 : options.tasks(), () -> finished + failed);
      activeClients = options.concurrency();
      for (int c = 0; c < options.concurrency(); c++) {
        next();
      }
    });
  }

  /** The body of a submit of each of the workload's inputs, encoded once for the whole run. */
  static List<Buffer> submitBodies(String functionId, Workload workload) {
    return workload.args().stream()
        .map(args -> new JsonObject().put("function_id", functionId).put("payload", args).toBuffer()).toList();
  }

  /** Submits {@code body} to {@code path}; the 201 answer's JSON body, or a failure saying why not. */
  static Future<JsonObject> submit(BenchHttp client, String path, Buffer body) {
    return client.post(path, body).compose(r -> {
      JsonObject json = r.status() == 201 ? r.json() : null;
      return json != null && json.getString("task_id") != null ? Future.succeededFuture(json)
          : Future.failedFuture(r.toString());
    });
  }

  /** Registers the workload's function under {@code name}; its id, or a failure saying why not. */
  static Future<String> register(BenchHttp client, Workload workload, String name) {
    JsonObject body = new JsonObject().put("name", name).put("payload", workload.function());
    return client.post("/register_function", body).compose(r -> {
      JsonObject json = r.status() == 201 ? r.json() : null;
      return json != null ? Future.succeededFuture(json.getString("function_id"))
          : Future.failedFuture("could not register the function: " + r);
    });
  }

  private boolean moreToStart() {
    if (options.durationSeconds() > 0) {
      return System.nanoTime() - startNanos < (long) (options.durationSeconds() * 1e9) && started < latency.length;
    }
    return started < options.tasks();
  }

  private void next() {
    if (!moreToStart()) {
      if (--activeClients == 0) {
        finish();
      }
      return;
    }
    int index = started++;
    long submitted = System.nanoTime();
    String path = options.twoStep() ? "/execute_function" : "/execute_function?wait=" + WAIT_SECONDS;
    submit(client, path, submits.get(index % submits.size())).onComplete(ar -> {
      if (ar.failed()) {
        fail("submit: " + ar.cause().getMessage());
        return;
      }
      JsonObject body = ar.result();
      if (isEnd(body.getString("status"))) {
        record(index, submitted, body);
        return;
      }
      if (body.getString("status") == null) { // a server without waiting submits: the time to the task id
        submitTime[idOnlySubmits++] = (System.nanoTime() - submitted) / 1e6;
      }
      poll(body.getString("task_id"), index, submitted);
    });
  }

  /** Whether a task in {@code status} has ended. */
  static boolean isEnd(String status) {
    return "COMPLETED".equals(status) || "FAILED".equals(status);
  }

  private void poll(String taskId, int index, long submitted) {
    client.get("/result/" + taskId + "?wait=" + WAIT_SECONDS).onComplete(ar -> {
      JsonObject body = ar.succeeded() && ar.result().status() == 200 ? ar.result().json() : null;
      if (body == null) {
        fail("result: " + (ar.failed() ? ar.cause() : ar.result()));
        return;
      }
      if (!isEnd(body.getString("status"))) {
        // A server without ?wait answers at once: poll again shortly rather than in a tight loop.
        vertx.setTimer(1, t -> poll(taskId, index, submitted));
        return;
      }
      record(index, submitted, body);
    });
  }

  private void record(int index, long submitted, JsonObject body) {
    double observedAt = wallSeconds();
    if (!"COMPLETED".equals(body.getString("status")) || !workload.returns(index, body.getString("result"))) {
      fail("task " + body.getString("task_id") + " ended " + body.getString("status") + " with a wrong result"
          + (body.getString("error") == null ? "" : ": " + body.getString("error")));
      return;
    }
    int slot = finished++;
    latency[slot] = (System.nanoTime() - submitted) / 1e6;
    Double created = body.getDouble("created_at");
    Double startedAt = body.getDouble("started_at");
    Double finishedAt = body.getDouble("finished_at");
    if (created != null && startedAt != null && finishedAt != null) {
      queueWait[slot] = (startedAt - created) * 1000;
      run[slot] = (finishedAt - startedAt) * 1000;
      resultTime[slot] = (observedAt - finishedAt) * 1000;
    } else {
      queueWait[slot] = run[slot] = resultTime[slot] = Double.NaN;
    }
    next();
  }

  private void fail(String why) {
    failed++;
    if (firstFailure == null) {
      firstFailure = why;
    }
    next();
  }

  private void finish() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    progress.end();
    Stats lat = stats(latency, finished);
    done.complete(new Result(options, finished, failed, firstFailure, seconds, finished / seconds,
        lat.percentile(50), lat.percentile(90), lat.percentile(99), lat.max(),
        stats(submitTime, idOnlySubmits).percentile(50), stats(queueWait, finished).percentile(50),
        stats(run, finished).percentile(50), stats(resultTime, finished).percentile(50)));
  }

  private static Stats stats(double[] values, int count) {
    return new Stats(java.util.Arrays.copyOf(values, count));
  }
}
