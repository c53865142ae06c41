package io.mpcsfaas.bench;

import io.mpcsfaas.config.Mode;
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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./faas bench}: measures a running server through its public HTTP API only, checks every result,
 * prints throughput and latency, and appends a CSV row per run to {@code --out}. A run in which any task
 * failed or returned a wrong value is reported as failed and written nowhere. Its options are a picocli command;
 * each value is checked as it is parsed, so that a bad one is a usage error naming the option.
 */
@Command(name = "bench", sortOptions = false, usageHelpWidth = 110, optionListHeading = "%nOptions:%n",
    customSynopsis = {"./faas bench [options]",
        "       ./faas bench --sweep [--out DIR] [--modes local,pull,push] [--slots 1,2,4,8]",
        "                            [--workloads noop,sleep] [--two-step]"})
public final class Bench implements Callable<Integer> {
  static final String CSV_HEADER = "label,workload,tasks,concurrency,completed,failed,seconds,tasks_per_s,"
      + "p50_ms,p90_ms,p99_ms,max_ms,submit_p50_ms,queue_wait_p50_ms,run_p50_ms,result_p50_ms";

  // Set by the annotated methods below, which check each value as picocli parses it.
  private String workload;
  private int tasks;
  private int concurrency;
  private double duration;
  private int warmup;
  private List<String> modes;
  private List<Integer> slots;
  private List<String> workloads;

  @Option(names = "--url", paramLabel = "URL", defaultValue = "http://127.0.0.1:8000", order = 0,
      description = "server to measure [default ${DEFAULT-VALUE}]")
  private String url;

  @Option(names = "--ca", paramLabel = "FILE", order = 1,
      description = "PEM certificates to trust for an https --url, e.g. the server's self-signed --tls-cert "
          + "[default: the JVM's trusted authorities]")
  private String ca;

  @Option(names = "--two-step", order = 5, description = "submit, then ask for the result (GET /result?wait=), "
      + "as the original clients do; by default a submit waits for its task (POST /execute_function?wait=) where "
      + "the server can, which saves a request per task")
  private boolean twoStep;

  @Option(names = "--backlog", order = 6, description = "overload: submit all --tasks first without waiting, then "
      + "read every result; prints submit latency under that load and the drain rate at start and end")
  private boolean backlog;

  @Option(names = "--label", paramLabel = "TEXT", defaultValue = "run", order = 8,
      description = "name of the run in the CSV (e.g. the mode) [default ${DEFAULT-VALUE}]")
  private String label;

  @Option(names = "--out", paramLabel = "DIR", order = 9,
      description = "append a row to DIR/bench.csv [default none; with --sweep: bench-results]")
  private Path out;

  @Option(names = "--python", paramLabel = "PATH", defaultValue = "${env:FAAS_PYTHON}", order = 10,
      description = "Python with dill, to serialize the workload [$FAAS_PYTHON, python3, /usr/bin/python3]")
  private String python;

  @Option(names = "--sweep", order = 11, description = "start the platform for each mode and number of interpreter "
      + "slots, warm it up (15 s of no-ops), run each workload (tasks and clients proportional to slots), and "
      + "write DIR/bench.csv, DIR/results.md, DIR/throughput.png, DIR/latency.png")
  private boolean sweep;

  @Option(names = {"-h", "--help"}, usageHelp = true, order = 15, description = "this help")
  private boolean help;

  @Spec
  private CommandSpec spec;

  @Option(names = "--workload", paramLabel = "W", defaultValue = "noop", order = 1,
      description = "noop, sleep (10 ms) or cpu (~10 ms of pure Python) [default ${DEFAULT-VALUE}]")
  private void workload(String name) {
    workload = OptionChecks.oneOf(spec, Workload.NAMES, name, "--workload");
  }

  @Option(names = "--tasks", paramLabel = "N", defaultValue = "2000", order = 2,
      description = "tasks to run [default ${DEFAULT-VALUE}]")
  private void tasks(int n) {
    tasks = OptionChecks.atLeast(spec, 1, n, "--tasks");
  }

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "16", order = 3,
      description = "clients, each with one task in flight [default ${DEFAULT-VALUE}]")
  private void concurrency(int n) {
    concurrency = OptionChecks.atLeast(spec, 1, n, "--concurrency");
  }

  @Option(names = "--duration", paramLabel = "S", defaultValue = "0", order = 4,
      description = "run for S seconds instead of --tasks [default 0: off]")
  private void duration(double seconds) {
    if (!(seconds >= 0) || Double.isInfinite(seconds)) {
      throw OptionChecks.invalid(spec, "--duration", seconds, "expected 0 or more seconds");
    }
    duration = seconds;
  }

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "2000", order = 7,
      description = "tasks run first and not measured, so that both JVMs have compiled their hot paths (the first "
          + "seconds of a JVM measure its JIT compiler) [default ${DEFAULT-VALUE}]")
  private void warmup(int n) {
    warmup = OptionChecks.atLeast(spec, 0, n, "--warmup");
  }

  @Option(names = "--modes", paramLabel = "M,M", split = ",", defaultValue = "local,pull,push", order = 12,
      description = "with --sweep: the modes, of local, pull, push, cluster [default ${DEFAULT-VALUE}]")
  private void modes(List<String> words) {
    List<String> known = Arrays.stream(Mode.values()).map(Mode::word).toList();
    words.forEach(word -> OptionChecks.oneOf(spec, known, word, "--modes"));
    modes = List.copyOf(words);
  }

  @Option(names = "--slots", paramLabel = "N,N", split = ",", defaultValue = "1,2,4,8", order = 13,
      description = "with --sweep: the interpreter slots of each platform [default ${DEFAULT-VALUE}]")
  private void slots(List<Integer> counts) {
    counts.forEach(n -> OptionChecks.atLeast(spec, 1, n, "--slots"));
    slots = List.copyOf(counts);
  }

  @Option(names = "--workloads", paramLabel = "W,W", split = ",", defaultValue = "noop,sleep", order = 14,
      description = "with --sweep: the workloads, of noop, sleep, cpu [default ${DEFAULT-VALUE}]")
  private void workloads(List<String> names) {
    names.forEach(name -> OptionChecks.oneOf(spec, Workload.NAMES, name, "--workloads"));
    workloads = List.copyOf(names);
  }

  /** Runs the bench; returns the process exit code (0 only when every task returned the right value). */
  @Override
  public Integer call() throws Exception {
    if (sweep) {
      return Sweep.run(out == null ? Path.of("bench-results") : out, modes, slots, workloads,
          PythonLocator.find(python), twoStep);
    }
    Workload generated = Workload.generate(PythonLocator.find(python), workload);
    if (backlog) {
      return reportBacklog(measureBacklog(url, generated, tasks, concurrency, ca));
    }
    return report(label, measure(options(), generated, warmup), out);
  }

  /** The measured run the options ask for. */
  BenchRun.Options options() {
    return new BenchRun.Options(url, workload, tasks, concurrency, duration, twoStep, ca);
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

  static BacklogRun.Result measureBacklog(String url, Workload workload, int tasks, int concurrency, String ca)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return BacklogRun.start(vertx, new BenchRun.Options(url, workload.name(), tasks, concurrency, 0, true, ca),
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
            measured.concurrency(), 0, measured.twoStep(), measured.ca());
        BenchRun.Result warm = BenchRun.start(vertx, client, warmupRun, workload, Progress.onTerminal("warm-up"))
            .await();
        if (warm.failed() > 0) {
          return warm;
        }
      }
      return BenchRun.start(vertx, client, measured, workload, Progress.onTerminal("run")).await();
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
