package io.mpcsfaas.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** {@code ./faas bench}'s options: defaults and parsed values reach the run; a bad value names its option. */
class BenchOptionsTest {

  private static Bench parse(String... args) {
    Bench bench = new Bench();
    new CommandLine(bench).parseArgs(args);
    return bench;
  }

  @Test
  void defaultsAndGivenValuesReachTheRunsOptions() {
    assertEquals(new BenchRun.Options("http://127.0.0.1:8000", "noop", 2000, 16, 0, false, null),
        parse().options());
    assertEquals(new BenchRun.Options("https://10.0.0.2:9000", "cpu", 50, 4, 2.5, true, "ca.pem"),
        parse("--url", "https://10.0.0.2:9000", "--workload", "cpu", "--tasks", "50", "--concurrency", "4",
            "--duration", "2.5", "--two-step", "--warmup", "0", "--label", "x", "--out", "dir", "--ca", "ca.pem")
            .options());
    parse("--sweep", "--modes", "cluster,local", "--slots", "3,1", "--workloads", "sleep,cpu");
  }

  @Test
  void aBadValueIsAParameterExceptionNamingTheOptionAndTheValue() {
    String[][] cases = { // option, value given, value the message names
        {"--tasks", "abc", "abc"}, {"--tasks", "0", "0"}, {"--concurrency", "0", "0"},
        {"--concurrency", "many", "many"}, {"--warmup", "-1", "-1"}, {"--duration", "-2", "-2"},
        {"--duration", "soon", "soon"}, {"--workload", "fib", "fib"}, {"--slots", "1,x", "x"},
        {"--slots", "2,0", "0"}, {"--modes", "local,carrier-pigeon", "carrier-pigeon"},
        {"--workloads", "noop,fib", "fib"}};
    for (String[] c : cases) {
      ParameterException e = assertThrows(ParameterException.class, () -> parse("--sweep", c[0], c[1]),
          c[0] + " " + c[1]);
      assertTrue(e.getMessage().contains("'" + c[0] + "'") && e.getMessage().contains("'" + c[2]), e.getMessage());
    }
    ParameterException unknown = assertThrows(ParameterException.class, () -> parse("--bogus"));
    assertTrue(unknown.getMessage().contains("--bogus"), unknown.getMessage());
  }

  @Test
  void helpListsEveryOptionWithItsDefaultAndTheSweepForm() {
    String help = new CommandLine(new Bench()).getUsageMessage();
    for (String option : new String[] {"--url=URL", "--workload=W", "--tasks=N", "--concurrency=N", "--duration=S",
        "--two-step", "--backlog", "--warmup=N", "--label=TEXT", "--out=DIR", "--python=PATH", "--sweep",
        "--modes=", "--slots=", "--workloads=", "--help"}) {
      assertTrue(help.contains(option), option + " in " + help);
    }
    assertTrue(help.contains("./faas bench --sweep [--out DIR] [--modes local,pull,push] [--slots 1,2,4,8]"), help);
    assertTrue(help.contains("[default 2000]") && help.contains("[default 16]")
        && help.contains("[default http://127.0.0.1:8000]") && help.contains("[default 1,2,4,8]"), help);
  }
}
