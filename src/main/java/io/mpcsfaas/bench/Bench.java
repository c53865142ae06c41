package io.mpcsfaas.bench;

import io.mpcsfaas.worker.PythonLocator;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./faas bench}: measures a running server through its public HTTP API only, checks every result,
 * prints throughput and latency, and appends a CSV row per run to {@code --out}. A run in which any task
 * failed or returned a wrong value is reported as failed and written nowhere.
 */
public final class Bench {
  static final String CSV_HEADER = "label,workload,tasks,concurrency,completed,failed,seconds,tasks_per_s,"
      + "p50_ms,p90_ms,p99_ms,max_ms,submit_p50_ms,queue_wait_p50_ms,run_p50_ms,result_p50_ms";
  public static final String USAGE = """
      usage: ./faas bench [options]
        --url URL          server to measure [http://127.0.0.1:8000]
        --workload W       noop, sleep (10 ms) or cpu (~10 ms of pure Python) [noop]
        --tasks N          tasks to run [2000]
        --concurrency N    clients, each with one task in flight [16]
        --duration S       run for S seconds instead of --tasks [0: off]
        --two-step         submit, then ask for the result (GET /result?wait=), as the original clients do;
                           by default a submit waits for its task (POST /execute_function?wait=) where the
                           server can, which saves a request per task
        --backlog          overload: submit all --tasks first without waiting, then read every result;
                           prints submit latency under that load and the drain rate at start and end
        --warmup N         tasks run first and not measured, so that both JVMs have compiled their hot
                           paths (the first seconds of a JVM measure its JIT compiler) [2000]
        --label TEXT       name of the run in the CSV (e.g. the mode) [run]
        --out DIR          append a row to DIR/bench.csv [none]
        --python PATH      Python with dill, to serialize the workload [$FAAS_PYTHON, python3, /usr/bin/python3]

      usage: ./faas bench --sweep [--out DIR] [--modes local,pull,push] [--slots 1,2,4,8] [--workloads noop,sleep]
                                  [--two-step]
        starts the platform for each mode and number of interpreter slots, warms it up (15 s of no-ops),
        runs each workload (tasks and clients proportional to slots), and writes DIR/bench.csv,
        DIR/results.md, DIR/throughput.png, DIR/latency.png
        [DIR: bench-results]
      """;

  private Bench() {}

  /** Runs the bench; returns the process exit code (0 only when every task returned the right value). */
  public static int main(String[] args) throws Exception {
    String url = "http://127.0.0.1:8000";
    String workloadName = "noop";
    String label = "run";
    String out = null;
    String python = System.getenv("FAAS_PYTHON");
    int tasks = 2000;
    int concurrency = 16;
    int warmup = 2000;
    double duration = 0;
    boolean sweep = false;
    boolean backlog = false;
    boolean twoStep = false;
    List<String> modes = List.of("local", "pull", "push");
    List<Integer> slots = List.of(1, 2, 4, 8);
    List<String> workloads = List.of("noop", "sleep");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--sweep") || args[i].equals("--backlog") || args[i].equals("--two-step")) {
        sweep |= args[i].equals("--sweep");
        backlog |= args[i].equals("--backlog");
        twoStep |= args[i].equals("--two-step");
        continue;
      }
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--url" -> url = value;
        case "--workload" -> workloadName = value;
        case "--tasks" -> tasks = Integer.parseInt(value);
        case "--concurrency" -> concurrency = Integer.parseInt(value);
        case "--duration" -> duration = Double.parseDouble(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--label" -> label = value;
        case "--out" -> out = value;
        case "--python" -> python = value;
        case "--modes" -> modes = List.of(value.split(","));
        case "--slots" -> slots = Arrays.stream(value.split(",")).map(Integer::valueOf).toList();
        case "--workloads" -> workloads = List.of(value.split(","));
        case "--help", "-h" -> {
          System.out.print(USAGE);
          return 0;
        }
        default -> throw new IllegalArgumentException("unknown bench option " + args[i] + "\n" + USAGE);
      }
      i++;
    }
    if (sweep) {
      return Sweep.run(Path.of(out == null ? "bench-results" : out), modes, slots, workloads,
          PythonLocator.find(python), twoStep);
    }
    Workload workload = Workload.generate(PythonLocator.find(python), workloadName);
    if (backlog) {
      return reportBacklog(measureBacklog(url, workload, tasks, concurrency));
    }
    BenchRun.Options options = new BenchRun.Options(url, workloadName, tasks, concurrency, duration, twoStep);
    return report(label, measure(options, workload, warmup), out == null ? null : Path.of(out));
  }

  /** Prints a run and appends it to {@code out}/bench.csv, unless a task failed: such a run is refused (1). */
  static int report(String label, BenchRun.Result result, Path out) throws IOException {
    System.out.println(summary(label, result));
    if (result.failed() > 0) {
      System.out.println("FAILED RUN: " + result.failed() + " tasks failed or returned a wrong value; first: "
          + result.firstFailure());
      return 1;
    }
    if (out != null) {
      appendCsv(out, label, result);
    }
    return 0;
  }

  static BacklogRun.Result measureBacklog(String url, Workload workload, int tasks, int concurrency)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return BacklogRun.start(vertx, new BenchRun.Options(url, workload.name(), tasks, concurrency, 0, true),
          workload).await();
    } finally {
      vertx.close().await();
    }
  }

  /** Prints a backlog run; 1 when a task failed or returned a wrong value. */
  static int reportBacklog(BacklogRun.Result result) {
    System.out.println(BacklogRun.summary(result));
    if (result.failed() > 0) {
      System.out.println("FAILED RUN: " + result.failed() + " tasks failed; first: " + result.firstFailure());
      return 1;
    }
    return 0;
  }

  /** Runs {@code warmup} tasks, then measures a run; a warm-up in which a task failed is the result. */
  static BenchRun.Result measure(BenchRun.Options measured, Workload workload, int warmup) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      BenchHttp client = BenchRun.http(vertx, measured);
      if (warmup > 0) {
        BenchRun.Options warmupRun = new BenchRun.Options(measured.url(), measured.workload(), warmup,
            measured.concurrency(), 0, measured.twoStep());
        BenchRun.Result warm = BenchRun.start(vertx, client, warmupRun, workload).await();
        if (warm.failed() > 0) {
          return warm;
        }
      }
      return BenchRun.start(vertx, client, measured, workload).await();
    } finally {
      vertx.close().await();
    }
  }

  static String summary(String label, BenchRun.Result r) {
    String submit = Double.isNaN(r.submitP50()) ? "one request per task (the submit waits)"
        : String.format(Locale.ROOT, "submit answered %.2f", r.submitP50());
    return String.format(Locale.ROOT, "%s %s: %d tasks, %d clients: %.0f tasks/s in %.2f s; latency ms p50 %.2f"
        + " p90 %.2f p99 %.2f max %.2f; p50 ms: %s; server: queue wait %.2f, run %.2f, result seen after %.2f",
        label, r.options().workload(), r.completed(), r.options().concurrency(), r.tasksPerSecond(), r.seconds(),
        r.p50(), r.p90(), r.p99(), r.max(), submit, r.queueWaitP50(), r.runP50(), r.resultP50());
  }

  static void appendCsv(Path dir, String label, BenchRun.Result r) throws IOException {
    Files.createDirectories(dir);
    Path csv = dir.resolve("bench.csv");
    if (!Files.exists(csv)) {
      Files.writeString(csv, CSV_HEADER + "\n", StandardCharsets.UTF_8);
    }
    String row = String.format(Locale.ROOT, "%s,%s,%d,%d,%d,%d,%.3f,%.1f,%.3f,%.3f,%.3f,%.3f,%s,%.3f,%.3f,%.3f%n",
        label, r.options().workload(), r.options().tasks(), r.options().concurrency(), r.completed(), r.failed(),
        r.seconds(), r.tasksPerSecond(), r.p50(), r.p90(), r.p99(), r.max(),
        Double.isNaN(r.submitP50()) ? "" : String.format(Locale.ROOT, "%.3f", r.submitP50()), r.queueWaitP50(),
        r.runP50(), r.resultP50());
    Files.writeString(csv, row, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }
}
