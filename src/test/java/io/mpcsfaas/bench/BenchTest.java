package io.mpcsfaas.bench;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.TestCertificate;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.api.ApiVerticle;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The bench against a real platform: it checks every value, counts failures, and reports only clean runs. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BenchTest {
  @TempDir
  Path dir;
  TestRedis server;
  Vertx vertx;
  String url;
  String ca;

  @BeforeEach
  void start() throws Exception {
    server = TestRedis.start(dir.resolve("redis"), false);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    await(vertx.close());
    server.close();
  }

  private void platform(JsonObject extra) {
    JsonObject conf = new JsonObject().put("redis.url", server.url()).put("api.port", 0).put("mode", "local")
        .put("workers", 2).mergeIn(extra);
    ApiVerticle api = new ApiVerticle();
    await(vertx.deployVerticle(api, new DeploymentOptions().setConfig(conf)));
    await(vertx.deployVerticle(new DispatcherVerticle(), new DeploymentOptions().setConfig(conf)));
    url = (extra.containsKey("api.tls_cert") ? "https" : "http") + "://127.0.0.1:" + api.port();
  }

  private BenchRun.Result measure(Workload workload, int warmup, int tasks, int concurrency, boolean twoStep)
      throws Exception {
    return Bench.measure(new BenchRun.Options(url, workload.name(), tasks, concurrency, 0, twoStep, ca), workload,
        warmup);
  }

  /**
   * Serves the platform's API as a server of the original four endpoints would: a submit answers with the
   * task id alone, whatever its {@code ?wait}. Returns the stand-in's URL.
   */
  private String withoutWaitingSubmits() {
    WebClient platform = WebClient.create(vertx);
    String platformUrl = url;
    HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String path = req.path().equals("/execute_function") ? req.path() : req.uri();
      platform.requestAbs(req.method(), platformUrl + path).putHeader("content-type", "application/json").sendBuffer(body)
          .onSuccess(r -> req.response().setStatusCode(r.statusCode()).putHeader("content-type", "application/json")
              .end(r.body() == null ? Buffer.buffer() : r.body()))
          .onFailure(err -> req.response().setStatusCode(502).end());
    }));
    return "http://127.0.0.1:" + await(server.listen(0, "127.0.0.1")).actualPort();
  }

  @Test
  void aCleanRunCountsEveryTaskAndAWrongValueIsAFailure() throws Exception {
    platform(new JsonObject());
    Workload noop = Workload.generate(Py.python(), "noop");
    BenchRun.Result clean = measure(noop, 10, 60, 4, false);
    assertEquals(60, clean.completed());
    assertEquals(0, clean.failed());
    assertTrue(clean.tasksPerSecond() > 0 && clean.p50() > 0 && clean.p99() >= clean.p50());
    assertTrue(clean.runP50() >= 0, "the server's timestamps give the breakdown");

    List<String> wrong = new ArrayList<>(noop.expected());
    Collections.rotate(wrong, 1); // every task now "should" return its neighbour's value
    Workload wrongValues = new Workload("noop", noop.function(), noop.args(), wrong);
    BenchRun.Result checked = measure(wrongValues, 0, 30, 3, false);
    assertEquals(30, checked.failed());
    assertEquals(0, checked.completed());
    assertNotNull(checked.firstFailure());
    assertTrue(checked.firstFailure().contains("wrong result"), checked.firstFailure());

    BenchRun.Result failedWarmup = measure(wrongValues, 5, 30, 3, false);
    assertEquals(5, failedWarmup.failed(), "a warm-up with failures is the result, not skipped");
    assertEquals(0, failedWarmup.completed());
  }

  @Test
  void aRunOverHttpsTrustsTheServersCertificateAndChecksEveryTask() throws Exception {
    TestCertificate certificate = TestCertificate.create(dir);
    platform(new JsonObject().put("api.tls_cert", certificate.cert().toString())
        .put("api.tls_key", certificate.key().toString()));
    ca = certificate.cert().toString();
    BenchRun.Result run = measure(Workload.generate(Py.python(), "noop"), 0, 40, 4, true);
    assertEquals(40, run.completed(), run.firstFailure());
    assertEquals(0, run.failed());
  }

  @Test
  void submitsWaitForTheirTaskWhereTheServerCanAndPollOtherwise() throws Exception {
    platform(new JsonObject());
    Workload noop = Workload.generate(Py.python(), "noop");
    BenchRun.Result oneRequest = measure(noop, 0, 40, 4, false);
    assertEquals(40, oneRequest.completed());
    assertTrue(Double.isNaN(oneRequest.submitP50()), "every submit answered with its task's end");

    BenchRun.Result twoSteps = measure(noop, 0, 40, 4, true);
    assertEquals(40, twoSteps.completed());
    assertTrue(twoSteps.submitP50() > 0, "--two-step: each submit answered with a task id");

    url = withoutWaitingSubmits();
    BenchRun.Result original = measure(noop, 0, 40, 4, false);
    assertEquals(40, original.completed(), "a server without waiting submits gets result requests");
    assertEquals(0, original.failed(), original.firstFailure());
    assertTrue(original.submitP50() > 0);
  }

  @Test
  void theCsvGetsOneRowPerCleanRunAndNoneForAFailedRun() throws Exception {
    platform(new JsonObject());
    Path out = dir.resolve("results");
    String[] args = {"--url", url, "--tasks", "20", "--warmup", "5", "--concurrency", "2", "--out", out.toString(),
        "--label", "t"};
    assertEquals(0, bench(args));
    assertEquals(0, bench(args));
    List<String> lines = Files.readAllLines(out.resolve("bench.csv"));
    assertEquals(Bench.CSV_HEADER, lines.get(0));
    assertEquals(3, lines.size(), "a header and one row per run: " + lines);
    assertTrue(lines.get(1).startsWith("t,noop,20,2,20,0,"), lines.get(1));
  }

  /** Runs {@code ./faas bench} with these arguments; its exit code. */
  private static int bench(String... args) throws Exception {
    Bench bench = new Bench();
    new CommandLine(bench).parseArgs(args);
    return bench.call();
  }

  @Test
  void aRunWhereTasksFailIsRefused() throws Exception {
    platform(new JsonObject());
    Workload noop = Workload.generate(Py.python(), "noop");
    List<String> wrong = new ArrayList<>(noop.expected());
    wrong.set(3, wrong.get(4)); // one task of the run returns a value it should not
    BenchRun.Result result = measure(new Workload("noop", noop.function(), noop.args(), wrong), 0, 10, 2, false);
    assertEquals(1, result.failed());
    Path out = dir.resolve("results");
    assertEquals(1, Bench.report("t", result, out));
    assertFalse(Files.exists(out.resolve("bench.csv")), "a failed run is reported nowhere");
  }

  @Test
  void theSweepTableHasARowPerRun() {
    BenchRun.Options options = new BenchRun.Options("http://x", "noop", 10, 2, 0, false, null);
    BenchRun.Result result = new BenchRun.Result(options, 10, 0, null, 1.0, 10.0, 1, 2, 3, 4, 0.5, 0.1, 0.2, 0.3);
    String table = Sweep.table(List.of(new Sweep.Row("local", 1, result), new Sweep.Row("push", 2, result)));
    assertEquals(4, table.strip().split("\n").length, table);
    assertTrue(table.contains("| push | 2 | noop | 10 | 2 | 10 |"), table);
  }

  @Test
  void theBacklogRunChecksEveryResultAndMeasuresTheDrain() throws Exception {
    platform(new JsonObject());
    Workload noop = Workload.generate(Py.python(), "noop");
    BacklogRun.Result clean = Bench.measureBacklog(url, noop, 200, 4, null);
    assertEquals(200, clean.submitted());
    assertEquals(200, clean.completed());
    assertEquals(0, clean.failed());
    assertTrue(clean.submitP99() >= clean.submitP50() && clean.submitP50() > 0);
    assertTrue(clean.drainSeconds() > 0 && clean.drainRateFirstFifth() > 0 && clean.drainRateLastFifth() > 0,
        BacklogRun.summary(clean));
    assertEquals(0, Bench.reportBacklog(clean));

    List<String> wrong = new ArrayList<>(noop.expected());
    Collections.rotate(wrong, 1);
    BacklogRun.Result checked = Bench.measureBacklog(url, new Workload("noop", noop.function(), noop.args(), wrong),
        20, 2, null);
    assertEquals(20, checked.failed());
    assertEquals(1, Bench.reportBacklog(checked), "a backlog run with a wrong value is refused");
  }
}
