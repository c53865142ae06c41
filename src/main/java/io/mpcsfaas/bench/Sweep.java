package io.mpcsfaas.bench;

import io.mpcsfaas.store.RedisServer;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./faas bench --sweep}: the original evaluation as one command. For each mode and each total of
 * interpreter slots it starts the platform ({@code ./faas up}, its own JVM, on a Redis of its own), warms it
 * up, runs each workload with tasks and clients proportional to the slots (weak scaling), stops it, and
 * writes a CSV of every run, a Markdown table and PNG plots.
 */
final class Sweep {
  record Row(String mode, int slots, BenchRun.Result result) {}

  private record Platform(Process process, String url) {}

  /** Tasks per slot, and clients per slot, of each workload. */
  private static final Map<String, int[]> SCALE = Map.of("noop", new int[] {2000, 8}, "sleep", new int[] {100, 2},
      "cpu", new int[] {50, 2});
  /**
   * Seconds of no-op load a fresh platform gets before it is measured: until its JIT compiler has caught up,
   * a JVM measures the compiler rather than the code (see docs/performance.md).
   */
  private static final double WARMUP_SECONDS = 15;

  private Sweep() {}

  static int run(Path out, List<String> modes, List<Integer> slotCounts, List<String> workloadNames, String python,
      boolean twoStep) throws Exception {
    Files.createDirectories(out);
    Files.deleteIfExists(out.resolve("bench.csv"));
    List<Workload> workloads = new ArrayList<>();
    for (String name : workloadNames) {
      workloads.add(Workload.generate(python, name));
    }
    Workload warmup = Workload.generate(python, "noop");
    int total = modes.size() * slotCounts.size() * workloads.size();
    long begin = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    Path redisDir = Files.createTempDirectory("mpcsfaas-sweep-redis-");
    try (RedisServer redis = RedisServer.start(freePort(), redisDir, false)) {
      int done = 0;
      for (String mode : modes) {
        for (int slots : slotCounts) {
          Platform platform = startPlatform(mode, slots, redis.url(), "sweep" + done + ":");
          try {
            String url = awaitReady(platform, slots);
            System.out.printf(Locale.ROOT, "%s, %d slots: warming up for %.0f s (%.0f s elapsed)%n", mode, slots,
                WARMUP_SECONDS, (System.nanoTime() - begin) / 1e9);
            BenchRun.Result warm = Bench.measure(new BenchRun.Options(url, "noop", 0, SCALE.get("noop")[1] * slots,
                WARMUP_SECONDS, twoStep, null), warmup, 0);
            if (warm.failed() > 0) {
              return Bench.report(mode + "/" + slots + " warm-up", warm, null);
            }
            for (Workload workload : workloads) {
              int[] scale = SCALE.get(workload.name());
              done++;
              System.out.printf(Locale.ROOT, "[%d/%d] %s, %d slots, %s: %d tasks, %d clients (%.0f s elapsed)%n",
                  done, total, mode, slots, workload.name(), scale[0] * slots, scale[1] * slots,
                  (System.nanoTime() - begin) / 1e9);
              BenchRun.Result result = Bench.measure(new BenchRun.Options(url, workload.name(), scale[0] * slots,
                  scale[1] * slots, 0, twoStep, null), workload, 0);
              if (Bench.report(mode + "/" + slots, result, out) != 0) {
                return 1;
              }
              rows.add(new Row(mode, slots, result));
            }
          } finally {
            stop(platform.process());
          }
        }
      }
    }
    Files.writeString(out.resolve("results.md"), table(rows), StandardCharsets.UTF_8);
    Charts.write(out, rows);
    System.out.printf(Locale.ROOT, "sweep done in %.0f s: %s (bench.csv, results.md, throughput.png, latency.png)%n",
        (System.nanoTime() - begin) / 1e9, out.toAbsolutePath());
    return 0;
  }

  static String table(List<Row> rows) {
    StringBuilder md = new StringBuilder("| mode | slots | workload | tasks | clients | tasks/s | p50 ms | p99 ms |"
        + " queue wait p50 ms | run p50 ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row row : rows) {
      BenchRun.Result r = row.result();
      md.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %d | %.0f | %.2f | %.2f | %.2f | %.2f |%n",
          row.mode(), row.slots(), r.options().workload(), r.completed(), r.options().concurrency(),
          r.tasksPerSecond(), r.p50(), r.p99(), r.queueWaitP50(), r.runP50()));
    }
    return md.toString();
  }

  /** The platform in its own JVM, as {@code ./faas up} runs it, with all its slots in one worker. */
  private static Platform startPlatform(String mode, int slots, String redisUrl, String prefix) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String jar = new File(Sweep.class.getProtectionDomain().getCodeSource().getLocation().getPath()).getPath();
    int port = freePort();
    List<String> command = List.of(java, "-Xmx512m", "-jar", jar, "up", "--mode", mode, "-w", Integer.toString(slots),
        "--port", Integer.toString(port), "--dispatcher-port", Integer.toString(freePort()),
        "--redis", redisUrl, "--prefix", prefix);
    Path log = Files.createTempFile("mpcsfaas-sweep-", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new Platform(process, "http://127.0.0.1:" + port);
  }

  /** Waits until the platform reports a live dispatcher with all its slots; returns its URL. */
  private static String awaitReady(Platform platform, int slots) throws Exception {
    String url = platform.url();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && platform.process().isAlive()) {
      try {
        HttpResponse<String> workers = http.send(HttpRequest.newBuilder(URI.create(url + "/workers")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (workers.statusCode() == 200 && workers.body().contains("\"slots\":" + slots)) {
          return url;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IOException("the platform did not come up within 60 s");
  }

  private static void stop(Process platform) throws InterruptedException {
    platform.destroy();
    if (!platform.waitFor(20, TimeUnit.SECONDS)) {
      platform.destroyForcibly().waitFor();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
