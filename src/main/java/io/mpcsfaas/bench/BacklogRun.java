package io.mpcsfaas.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The overload bench ({@code ./faas bench --backlog}): {@code concurrency} clients submit {@code tasks}
 * tasks as fast as the server takes them, without waiting for results, so a backlog builds up; then the
 * same clients read every result in submission order, checking each value. It reports how fast submits
 * answered under that load and how fast the backlog drained, at its start and at its end (from the
 * tasks' {@code finished_at}, or when a result was seen on a server without it). Runs on one event loop.
 */
final class BacklogRun {
  /** What a backlog run measured: submit latency in ms, drain rates in tasks/s. */
  record Result(int submitted, int completed, int failed, String firstFailure, double submitSeconds,
      double submitP50, double submitP99, double submitMax, double drainSeconds, double drainRateFirstFifth,
      double drainRateLastFifth) {}

  private final Vertx vertx;
  private final BenchRun.Options options;
  private final Workload workload;
  private final BenchHttp client;
  private final Progress submitting = Progress.onTerminal("backlog submits");
  private final Progress reading = Progress.onTerminal("backlog results");
  private final Promise<Result> done = Promise.promise();
  private final String[] taskIds;
  private final double[] submitMillis;
  private final double[] finishedAt;
  private List<Buffer> submits;
  private long startNanos;
  private double submitSeconds;
  private int next;
  private int failed;
  private int completed;
  private int active;
  private String firstFailure;

  private BacklogRun(Vertx vertx, BenchRun.Options options, Workload workload) {
    this.vertx = vertx;
    this.options = options;
    this.workload = workload;
    this.client = BenchRun.http(vertx, options);
    taskIds = new String[options.tasks()];
    submitMillis = new double[options.tasks()];
    finishedAt = new double[options.tasks()];
  }

  static Future<Result> start(Vertx vertx, BenchRun.Options options, Workload workload) {
    BacklogRun run = new BacklogRun(vertx, options, workload);
    vertx.runOnContext(v -> run.begin());
    return run.done.future().andThen(ar -> run.client.close());
  }

  static String summary(Result r) {
    return String.format(Locale.ROOT, "backlog: %d tasks submitted in %.2f s (submit latency ms p50 %.2f p99 %.2f"
        + " max %.2f); drained in %.2f s: %.0f tasks/s over the first fifth, %.0f over the last; %d completed,"
        + " %d failed", r.submitted(), r.submitSeconds(), r.submitP50(), r.submitP99(), r.submitMax(),
        r.drainSeconds(), r.drainRateFirstFifth(), r.drainRateLastFifth(), r.completed(), r.failed());
  }

  private void begin() {
    BenchRun.register(client, workload, "backlog-" + workload.name()).onFailure(done::fail).onSuccess(id -> {
      submits = BenchRun.submitBodies(id, workload);
      startNanos = System.nanoTime();
      submitting.follow(vertx, taskIds.length, () -> next);
      active = options.concurrency();
      for (int c = 0; c < options.concurrency(); c++) {
        submitNext();
      }
    });
  }

  private void submitNext() {
    if (next >= taskIds.length) {
      if (--active == 0) {
        submitSeconds = (System.nanoTime() - startNanos) / 1e9;
        submitting.end();
        // A task whose submit failed counts as failed already, so the results read end at taskIds.length.
        reading.follow(vertx, taskIds.length, () -> completed + failed);
        next = 0;
        active = options.concurrency();
        for (int c = 0; c < options.concurrency(); c++) {
          readNext();
        }
      }
      return;
    }
    int index = next++;
    long sent = System.nanoTime();
    BenchRun.submit(client, "/execute_function", submits.get(index % submits.size())).onComplete(ar -> {
      submitMillis[index] = (System.nanoTime() - sent) / 1e6;
      if (ar.failed()) {
        fail("submit: " + ar.cause().getMessage());
      } else {
        taskIds[index] = ar.result().getString("task_id");
      }
      submitNext();
    });
  }

  private void readNext() {
    while (next < taskIds.length && taskIds[next] == null) {
      next++; // its submit failed, counted already
    }
    if (next < taskIds.length) {
      read(next++);
    } else if (--active == 0) {
      finish();
    }
  }

  private void read(int index) {
    client.get("/result/" + taskIds[index] + "?wait=" + BenchRun.WAIT_SECONDS).onComplete(ar -> {
      if (ar.failed() || ar.result().status() != 200) {
        fail("result: " + (ar.failed() ? ar.cause() : ar.result()));
        readNext();
        return;
      }
      JsonObject body = ar.result().json();
      String status = body == null ? null : body.getString("status");
      if (body != null && !BenchRun.isEnd(status)) {
        vertx.setTimer(1, t -> read(index)); // still queued: a server without ?wait answers at once
        return;
      }
      if (!"COMPLETED".equals(status) || !workload.returns(index, body.getString("result"))) {
        fail("task " + taskIds[index] + " ended " + status + " with a wrong result");
      } else {
        completed++;
        Double at = body.getDouble("finished_at");
        finishedAt[index] = at != null ? at : BenchRun.wallSeconds();
      }
      readNext();
    });
  }

  private void fail(String why) {
    failed++;
    if (firstFailure == null) {
      firstFailure = why;
    }
  }

  private void finish() {
    reading.end();
    Stats submits = new Stats(submitMillis);
    double[] ends = Arrays.stream(finishedAt).filter(t -> t > 0).sorted().toArray();
    int fifth = ends.length / 5;
    double drainSeconds = ends.length < 2 ? 0 : ends[ends.length - 1] - ends[0];
    done.complete(new Result(taskIds.length, completed, failed, firstFailure, submitSeconds,
        submits.percentile(50), submits.percentile(99), submits.max(), drainSeconds,
        rate(ends, 0, fifth), rate(ends, ends.length - 1 - fifth, ends.length - 1)));
  }

  /** Tasks per second between the {@code from}-th and the {@code to}-th task to end. */
  private static double rate(double[] ends, int from, int to) {
    if (from < 0 || to <= from || ends[to] <= ends[from]) {
      return Double.NaN;
    }
    return (to - from) / (ends[to] - ends[from]);
  }
}
