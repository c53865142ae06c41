package io.mpcsfaas.worker;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.Py;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Real Python interpreters running real dill payloads, driven from the pool's own Vert.x context. */
@ExtendWith(VertxExtension.class)
@io.vertx.junit5.Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class InterpreterPoolTest {
  static JsonObject payloads;
  static String python;

  Vertx vertx;
  Context context;
  final List<InterpreterPool> pools = new ArrayList<>();

  @BeforeAll
  static void makePayloads() {
    python = Py.python();
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['triple'] = enc(lambda x: x * 3)",
        "out['args21'] = enc(((21,), {}))",
        "out['many'] = [enc(((i,), {})) for i in range(100)]",
        "def boom(x):",
        "    raise ValueError('bad %d' % x)",
        "out['raise'] = enc(boom)",
        "def leave(x):",
        "    import os",
        "    os._exit(3)",
        "out['exit3'] = enc(leave)",
        "def sysexit(x):",
        "    import sys",
        "    sys.exit(5)",
        "out['sysexit'] = enc(sysexit)",
        "def slow(x):",
        "    import time",
        "    time.sleep(30)",
        "    return x",
        "out['sleep30'] = enc(slow)",
        "def segv(x):",
        "    import os, resource, signal",
        "    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))",
        "    os.kill(os.getpid(), signal.SIGSEGV)",
        "out['segv'] = enc(segv)",
        "def gen(x):",
        "    return (i for i in range(x))",
        "out['generator'] = enc(gen)",
        "mod = types.ModuleType('nosuchmodule_xyz')",
        "exec('def fn(x):\\n    return x\\n', mod.__dict__)",
        "sys.modules['nosuchmodule_xyz'] = mod",
        "out['missing_module'] = enc(mod.fn, byref=True)",
        "del sys.modules['nosuchmodule_xyz']",
        "def noisy(x):",
        "    import os, sys",
        "    print('x' * 5000000)",
        "    sys.stdout.write('\\x00\\x00\\x00\\x10{\"task\": \"forged\"}')",
        "    sys.stdout.flush()",
        "    os.write(1, b'y' * 1000000)",
        "    sys.stderr.write('z' * 1000000)",
        "    return x * 2",
        "out['noisy'] = enc(noisy)",
        "def prints(x):",
        "    import sys",
        "    print('hello', x)",
        "    sys.stderr.write('oops\\n')",
        "    return x",
        "out['prints'] = enc(prints)",
        "def print_then_wait(path):",
        "    import os, time",
        "    print('started', flush=True)",
        "    deadline = time.time() + 30",
        "    while not os.path.exists(path) and time.time() < deadline:",
        "        time.sleep(0.05)",
        "    print('done')",
        "    return os.path.exists(path)",
        "out['print_then_wait'] = enc(print_then_wait)",
        "def print_then_hang(x):",
        "    import time",
        "    print('before the hang')",
        "    time.sleep(60)",
        "out['print_then_hang'] = enc(print_then_hang)",
        "def reads(x):",
        "    import sys",
        "    return repr(sys.stdin.read())",
        "out['reads_stdin'] = enc(reads)",
        "def env(x):",
        "    import os",
        "    return sorted(os.environ)",
        "out['env'] = enc(env)",
        "def hog(x):",
        "    return len(bytearray(x * 1024 * 1024))",
        "out['hog'] = enc(hog)",
        "out['args600'] = enc(((600,), {}))",
        "out['args1'] = enc(((1,), {}))",
        "def nap(seconds):",
        "    import time",
        "    time.sleep(seconds)",
        "    return seconds",
        "out['nap'] = enc(nap)",
        "out['args3'] = enc(((3,), {}))",
        "out['args_half'] = enc(((0.5,), {}))",
        "out['args_1ms'] = enc(((0.001,), {}))",
        "out['length'] = enc(lambda s: len(s))",
        "out['big'] = enc((('x' * 300000,), {}))",
        "out['small'] = enc((('xyz',), {}))"));
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    // A context of its own: the pool and every call to it live on it.
    this.context = vertx.getOrCreateContext();
  }

  @AfterEach
  void closePools() {
    for (InterpreterPool pool : pools) {
      on(pool::close);
      // Let the interpreters' exits be handled before Vert.x closes.
      TestRedis.eventually(Duration.ofSeconds(10), "the pool's interpreters exit",
          () -> on(() -> Future.succeededFuture(pool.room())) == 0);
    }
  }

  /** Runs {@code action} on the pool's context and waits (here, on the test thread) for its future. */
  private <T> T on(Supplier<Future<T>> action) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return await(promise.future());
  }

  private InterpreterPool pool(int size, int defaultTimeout, int memoryLimitMb) {
    return pool(size, defaultTimeout, memoryLimitMb, 5, new RunTimes());
  }

  private InterpreterPool pool(int size, int defaultTimeout, int memoryLimitMb, int lookaheadMillis,
      RunTimes runTimes) {
    InterpreterPool pool = on(() -> InterpreterPool.start(vertx, new PoolOptions(size, python, lookaheadMillis,
        defaultTimeout, memoryLimitMb, 64, List.of()), runTimes));
    pools.add(pool);
    return pool;
  }

  /** Run times as the pool would have learned them from three runs of {@code millis} each. */
  private static RunTimes knowing(String function, double millis) {
    RunTimes runTimes = new RunTimes();
    for (int i = 0; i < 3; i++) {
      runTimes.record("fid-" + function, (long) (millis * 1_000_000));
    }
    return runTimes;
  }

  private static TaskSpec task(String function, String args, Integer timeout) {
    return new TaskSpec(UUID.randomUUID().toString(), "fid-" + function, payloads.getString(function),
        payloads.getString(args), timeout, Environments.DEFAULT);
  }

  /** Hands all the tasks to the pool at once, in order, on its context; their outcomes in the same order. */
  private List<TaskOutcome> runTogether(InterpreterPool pool, List<TaskSpec> tasks) {
    return on(() -> {
      List<Future<TaskOutcome>> runs = new ArrayList<>();
      for (TaskSpec task : tasks) {
        runs.add(pool.run(task));
      }
      return Future.all(runs).map(all -> all.<TaskOutcome>list());
    });
  }

  private TaskOutcome run(InterpreterPool pool, String function, String args, Integer timeout) {
    return on(() -> pool.run(task(function, args, timeout)));
  }

  private static void assertValue(String expectedRepr, TaskOutcome outcome) {
    assertTrue(outcome.ok(), "task failed: " + outcome.error());
    assertNull(outcome.error());
    assertEquals(expectedRepr, Py.describe(outcome.result()).getString("repr"));
  }

  /** Checks a failure: the result is the exception, pickled for the client; returns its description. */
  private static JsonObject assertFailure(String exceptionType, TaskOutcome outcome) {
    assertFalse(outcome.ok(), "task should have failed");
    JsonObject exception = Py.describe(outcome.result());
    assertEquals(Boolean.TRUE, exception.getBoolean("is_exception"), exception.encode());
    assertEquals(exceptionType, exception.getString("type"), exception.encode() + "\nerror: " + outcome.error());
    return exception;
  }

  @Test
  void runsADoublingFunction() {
    InterpreterPool pool = pool(2, 30, 0);
    assertEquals(2, pool.size());
    assertEquals(2, on(() -> Future.succeededFuture(pool.room())), "2 idle interpreters");
    assertValue("42", run(pool, "double", "args21", null));
  }

  /** Runs "double" until the pool has seen it end quickly (its first run also unpickles it). */
  private void learnThatDoubleIsQuick(InterpreterPool pool) {
    for (int i = 0; i < 20; i++) {
      assertValue("42", run(pool, "double", "args21", null));
    }
  }

  @Test
  void framesTooBigForThePipeAndSmallOnesArriveInOrder() {
    InterpreterPool pool = pool(1, 30, 0);
    List<TaskOutcome> outcomes = runTogether(pool, Stream.of("big", "small", "big", "small", "small")
        .map(args -> task("length", args, null)).toList());
    List<String> lengths = new ArrayList<>();
    for (TaskOutcome outcome : outcomes) {
      assertTrue(outcome.ok(), outcome.error());
      lengths.add(outcome.result());
    }
    JsonArray decoded = Py.describeAll(lengths);
    List<String> expected = List.of("300000", "3", "300000", "3", "3");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i), decoded.getJsonObject(i).getString("repr"), "task " + i);
    }
  }

  @Test
  void theTimeoutOfATaskThatEndedNeverStopsTheNextOne() {
    InterpreterPool pool = pool(1, 30, 0);
    List<TaskOutcome> outcomes = runTogether(pool, List.of(
        task("nap", "args_half", 2),
        task("nap", "args_half", 2), // waits in the pool
        // Runs from about 1 s to 4 s: a timer of the second task's 2 s left running would stop it at 2.5 s.
        task("nap", "args3", 10)));
    assertValue("0.5", outcomes.get(0));
    assertValue("0.5", outcomes.get(1));
    assertValue("3", outcomes.get(2));
  }

  @Test
  void aQuickTaskIsNotQueuedBehindASlowOne() {
    InterpreterPool pool = pool(2, 30, 0);
    learnThatDoubleIsQuick(pool);
    List<String> endings = new ArrayList<>();
    on(() -> {
      Future<TaskOutcome> slow = pool.run(task("nap", "args3", null)).andThen(ar -> endings.add("slow"));
      Future<TaskOutcome> shorter = pool.run(task("nap", "args_half", null)).andThen(ar -> endings.add("shorter"));
      // Both interpreters are busy with tasks not known to be quick: this one waits for the first to free up.
      Future<TaskOutcome> quick = pool.run(task("double", "args21", null)).andThen(ar -> endings.add("quick"));
      return Future.all(slow, shorter, quick);
    });
    assertEquals(List.of("shorter", "quick", "slow"), endings);
  }

  @Test
  void quickTasksArePipelinedBehindEachOther() {
    // A lookahead of 200 ms, so that a loaded machine that runs the first task late still finds room behind
    // it; PipelinePlanTest counts the exact room for the default 5 ms on a fake clock.
    InterpreterPool pool = pool(1, 30, 0, 200, knowing("double", 0.2));
    int capacity = capacityOnceHanded(pool, task("double", "args21", null));
    assertTrue(capacity > 10 && capacity < PipelinePlan.MAX_PIPELINED, "room behind a quick task: " + capacity);
    List<TaskSpec> tasks = new ArrayList<>();
    for (int i = 0; i < 2 * PipelinePlan.MAX_PIPELINED; i++) {
      tasks.add(task("double", "args21", null));
    }
    for (TaskOutcome outcome : runTogether(pool, tasks)) {
      assertValue("42", outcome);
    }
  }

  @Test
  void tasksHeldBehindATaskThatOverrunsGoBackToThePool() {
    // Naps known to take 20 ms, a lookahead of 200 ms: several fit behind one, and one of 3 s overruns.
    InterpreterPool pool = pool(2, 30, 0, 200, knowing("nap", 20));
    List<String> endings = new ArrayList<>();
    on(() -> {
      List<Future<TaskOutcome>> runs = new ArrayList<>();
      // "double" is not known: its interpreter takes nothing behind it, so the rest queue behind the nap.
      runs.add(pool.run(task("double", "args21", null)).andThen(ar -> endings.add("double")));
      runs.add(pool.run(task("nap", "args3", null)).andThen(ar -> endings.add("overrunning")));
      for (int i = 0; i < PipelinePlan.WRITE_AHEAD + 2; i++) {
        String name = (i < PipelinePlan.WRITE_AHEAD - 1 ? "in the pipe " : "held ") + i;
        runs.add(pool.run(task("nap", "args_1ms", null)).andThen(ar -> endings.add(name)));
      }
      return Future.all(runs);
    });
    int overran = endings.indexOf("overrunning");
    for (String ending : endings) {
      if (ending.startsWith("held")) {
        assertTrue(endings.indexOf(ending) < overran, "a held task ran elsewhere: " + endings);
      } else if (ending.startsWith("in the pipe")) {
        assertTrue(endings.indexOf(ending) > overran, "written to the pipe, it waited: " + endings);
      }
    }
  }

  @Test
  void cancellingTheRunningTaskStopsItsInterpreterWhichIsReplacedForTheNextTask() {
    InterpreterPool pool = pool(1, 60, 0);
    TaskSpec sleeping = task("sleep30", "args21", null);
    TaskOutcome cancelled = on(() -> {
      Future<TaskOutcome> run = pool.run(sleeping);
      vertx.setTimer(300, t -> pool.cancel(sleeping.taskId()));
      return run;
    });
    assertEquals(TaskOutcome.CANCELLED, cancelled);
    // Well before the 30 s sleep would end: the replacement runs it.
    TaskOutcome next = on(() -> pool.run(task("double", "args21", null)).timeout(20, TimeUnit.SECONDS));
    assertValue("42", next);
    assertEquals(1, pool.size());
  }

  @Test
  void cancellingAWaitingTaskDropsItWithoutTouchingTheRunningOne() {
    InterpreterPool pool = pool(1, 30, 0);
    List<String> endings = new ArrayList<>();
    List<TaskOutcome> outcomes = on(() -> {
      Future<TaskOutcome> running = pool.run(task("nap", "args_half", null)).andThen(ar -> endings.add("nap"));
      // The nap's length is not known: this one waits in the pool for the interpreter.
      TaskSpec waiting = task("double", "args21", null);
      Future<TaskOutcome> dropped = pool.run(waiting).andThen(ar -> endings.add("cancelled"));
      pool.cancel(waiting.taskId());
      pool.cancel("a task the pool does not hold");
      return Future.all(running, dropped).map(all -> all.<TaskOutcome>list());
    });
    assertEquals(List.of("cancelled", "nap"), endings);
    assertValue("0.5", outcomes.get(0));
    assertEquals(TaskOutcome.CANCELLED, outcomes.get(1));
  }

  @Test
  void cancellingATaskInThePipeBehindTheRunningOneSparesTheTasksAroundIt() {
    // Naps known to take 20 ms, a lookahead of 200 ms: the second and third are written behind the first.
    InterpreterPool pool = pool(1, 30, 0, 200, knowing("nap", 20));
    List<TaskSpec> tasks = List.of(task("nap", "args_half", null), task("sleep30", "args21", null),
        task("nap", "args_1ms", null));
    List<TaskOutcome> outcomes = on(() -> {
      List<Future<TaskOutcome>> runs = new ArrayList<>();
      tasks.forEach(t -> runs.add(pool.run(t)));
      pool.cancel(tasks.get(1).taskId());
      return Future.all(runs).map(all -> all.<TaskOutcome>list()).timeout(20, TimeUnit.SECONDS);
    });
    assertValue("0.5", outcomes.get(0));
    assertEquals(TaskOutcome.CANCELLED, outcomes.get(1));
    assertValue("0.001", outcomes.get(2));
  }

  @Test
  void withoutLookaheadAnInterpreterTakesOneTaskAtATime() {
    InterpreterPool pool = pool(1, 30, 0, 0, knowing("double", 0.2));
    assertEquals(0, capacityOnceHanded(pool, task("double", "args21", null)));
  }

  /** The pool's capacity right after it was handed {@code task}. */
  private int capacityOnceHanded(InterpreterPool pool, TaskSpec task) {
    return on(() -> {
      pool.run(task);
      return Future.succeededFuture(pool.room());
    });
  }

  @Test
  void theSuccessorOfASteadyLongTaskIsHandedOverShortlyBeforeItEnds() {
    // A lookahead of 200 ms, so that the announcement (300 ms into the task) finds room even when a loaded
    // machine delays the timer or the sleep by many milliseconds; PipelinePlanTest checks the exact instants.
    InterpreterPool pool = pool(1, 30, 0, 200, knowing("nap", 500));
    List<Integer> roomWhileRunning = new ArrayList<>();
    TaskOutcome outcome = on(() -> {
      Future<TaskOutcome> nap = pool.run(task("nap", "args_half", null));
      roomWhileRunning.add(pool.room());
      // The lookahead timer announces the room before the expected end of the 500 ms task.
      pool.onRoom(() -> {
        if (!nap.isComplete()) {
          roomWhileRunning.add(pool.room());
        }
      });
      return nap;
    });
    assertValue("0.5", outcome);
    assertEquals(0, roomWhileRunning.get(0), "no room at the start of a 500 ms task");
    assertTrue(roomWhileRunning.size() > 1 && roomWhileRunning.get(1) >= 1,
        "room announced before the task ended: " + roomWhileRunning);
  }

  @Test
  void thePoolLearnsASteadyFunctionsRunTime() {
    RunTimes runTimes = new RunTimes();
    InterpreterPool pool = pool(1, 30, 0, 5, runTimes);
    // The first run also unpickles the function; a few more make it predictable. Half-second naps count as
    // steady within 125 ms, which a loaded machine's scheduling delays stay well inside.
    for (int i = 0; i < 6; i++) {
      assertValue("0.5", run(pool, "nap", "args_half", null));
    }
    long expected = on(() -> Future.succeededFuture(runTimes.expectedNanos("fid-nap")));
    assertTrue(expected >= 500_000_000 && expected < 1_000_000_000, "a 0.5 s nap expected to take " + expected + " ns");
  }

  private static TaskSpec taskOf(String fid, String payload, String args) {
    return new TaskSpec(UUID.randomUUID().toString(), fid, payload, payloads.getString(args), null,
        Environments.DEFAULT);
  }

  @Test
  void aFunctionCrossesThePipeOnceForAllItsTasks() {
    InterpreterPool pool = pool(1, 30, 0);
    assertValue("42", on(() -> pool.run(taskOf("fid-once", payloads.getString("double"), "args21"))));
    // Not base64: the interpreter would be stopped if it wrote this payload again instead of trusting the runner.
    List<TaskSpec> tasks = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      tasks.add(taskOf("fid-once", "not base64!", "args21"));
    }
    for (TaskOutcome outcome : runTogether(pool, tasks)) {
      assertValue("42", outcome);
    }
  }

  @Test
  void aFunctionTheRecordLetGoIsForgottenByTheRunnerAndSentAgain() {
    InterpreterPool pool = pool(1, 30, 0);
    assertValue("42", on(() -> pool.run(taskOf("fid-first", payloads.getString("double"), "args21"))));
    List<TaskSpec> others = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      others.add(taskOf("fid-other-" + i, payloads.getString("double"), "args1"));
    }
    runTogether(pool, others).forEach(outcome -> assertValue("2", outcome));
    // Another function under the first id (never so in production) tells which one the runner uses: the one
    // sent anew, so both the record and the runner let the first go.
    assertValue("63", on(() -> pool.run(taskOf("fid-first", payloads.getString("triple"), "args21"))));
  }

  @Test
  void runsAHundredTasksInParallel() {
    InterpreterPool pool = pool(2, 30, 0);
    JsonArray many = payloads.getJsonArray("many");
    List<TaskSpec> tasks = new ArrayList<>();
    for (int i = 0; i < many.size(); i++) {
      tasks.add(new TaskSpec(UUID.randomUUID().toString(), "fid-double", payloads.getString("double"),
          many.getString(i), null, Environments.DEFAULT));
    }
    List<TaskOutcome> outcomes = runTogether(pool, tasks);
    assertEquals(100, outcomes.size());
    List<String> results = new ArrayList<>();
    for (TaskOutcome outcome : outcomes) {
      assertTrue(outcome.ok(), outcome.error());
      results.add(outcome.result());
    }
    JsonArray decoded = Py.describeAll(results);
    for (int i = 0; i < 100; i++) {
      assertEquals(Integer.toString(2 * i), decoded.getJsonObject(i).getString("repr"), "task " + i);
    }
    assertEquals(2, on(() -> Future.succeededFuture(pool.room())), "all capacity back");
  }

  @Test
  void aRaisingFunctionFailsWithItsExceptionAndTraceback() {
    InterpreterPool pool = pool(2, 30, 0);
    TaskOutcome outcome = run(pool, "raise", "args21", null);
    JsonObject exception = assertFailure("ValueError", outcome);
    assertEquals("bad 21", exception.getString("str"));
    assertTrue(outcome.error().contains("Traceback (most recent call last)"), outcome.error());
    assertTrue(outcome.error().contains("ValueError: bad 21"), outcome.error());
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void sysExitInUserCodeFailsOnlyTheTask() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "sysexit", "args21", null);
    assertFailure("SystemExit", outcome);
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void anInterpreterThatExitsFailsItsTaskAndIsReplaced() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "exit3", "args21", null);
    JsonObject exception = assertFailure("RuntimeError", outcome);
    assertTrue(outcome.error().contains("exited with code 3"), outcome.error());
    assertTrue(exception.getString("str").contains("exited with code 3"), exception.encode());
    // The only interpreter died: the next task runs on its replacement.
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void tasksQueuedBehindACrashRunOnTheReplacement() {
    InterpreterPool pool = pool(1, 30, 0);
    List<TaskOutcome> outcomes = runTogether(pool, List.of(
        task("exit3", "args21", null),
        task("double", "args21", null),
        task("double", "args1", null))); // waiting in the pool
    assertFalse(outcomes.get(0).ok());
    assertValue("42", outcomes.get(1));
    assertValue("2", outcomes.get(2));
  }

  @Test
  void aTaskOverItsTimeoutFailsWithTimeoutErrorAndThePoolGoesOn() {
    InterpreterPool pool = pool(2, 1, 0);
    long started = System.nanoTime();
    TaskOutcome outcome = run(pool, "sleep30", "args21", null);
    long elapsed = System.nanoTime() - started;
    JsonObject exception = assertFailure("TimeoutError", outcome);
    assertTrue(exception.getString("str").contains("timeout of 1 s"), exception.encode());
    assertTrue(outcome.error().startsWith("TimeoutError"), outcome.error());
    assertTrue(elapsed < TimeUnit.SECONDS.toNanos(5), "timed out after " + elapsed / 1_000_000 + " ms");
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void aPerTaskTimeoutOverridesThePoolDefault() {
    InterpreterPool pool = pool(1, 30, 0);
    long started = System.nanoTime();
    List<TaskOutcome> outcomes = runTogether(pool, List.of(task("sleep30", "args21", 1),
        task("double", "args21", null)));
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
    assertFailure("TimeoutError", outcomes.get(0));
    assertValue("42", outcomes.get(1));
  }

  @Test
  void aSegfaultIsReportedWithItsSignal() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "segv", "args21", null);
    assertFailure("RuntimeError", outcome);
    assertTrue(outcome.error().contains("signal 11") && outcome.error().contains("SIGSEGV"), outcome.error());
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void aResultDillCannotPickleFailsTheTaskClearly() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "generator", "args21", null);
    JsonObject exception = assertFailure("TypeError", outcome);
    assertTrue(outcome.error().contains("dill cannot pickle"), outcome.error());
    assertTrue(outcome.error().contains("generator"), outcome.error());
    assertTrue(exception.getString("str").contains("dill cannot pickle"), exception.encode());
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void aFunctionFromAMissingModuleFailsPromptlyWithModuleNotFoundError() {
    InterpreterPool pool = pool(1, 30, 0);
    assertTrue(java.util.Base64.getMimeDecoder().decode(payloads.getString("missing_module")).length < 100,
        "pickled by reference, not by value");
    long started = System.nanoTime();
    TaskOutcome outcome = run(pool, "missing_module", "args21", null);
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
    JsonObject exception = assertFailure("ModuleNotFoundError", outcome);
    assertTrue(exception.getString("str").contains("nosuchmodule_xyz"), exception.encode());
    assertTrue(outcome.error().contains("ModuleNotFoundError"), outcome.error());
    assertValue("42", run(pool, "double", "args21", null));
  }

  @Test
  void printingMegabytesDoesNotCorruptTheResult() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome noisy = run(pool, "noisy", "args21", null);
    assertValue("42", noisy);
    // The last 64 KiB of each stream; what went straight to fd 1 is not in it.
    assertEquals(64 * 1024, noisy.output().stdout().length());
    assertTrue(noisy.output().stdout().endsWith("x\n\u0000\u0000\u0000\u0010{\"task\": \"forged\"}"),
        noisy.output().stdout().substring(64 * 1024 - 40));
    assertEquals("z".repeat(64 * 1024), noisy.output().stderr());
    assertTrue(noisy.output().truncated());
    TaskOutcome next = run(pool, "double", "args21", null);
    assertValue("42", next);
    assertEquals(TaskOutput.NONE, next.output(), "the next task starts with nothing printed");
  }

  @Test
  void aTaskKeepsWhatItPrintedToStdoutAndStderr() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "prints", "args21", null);
    assertValue("21", outcome);
    assertEquals(new TaskOutput("hello 21\n", "oops\n", false), outcome.output());
  }

  @Test
  void aTaskEndedForItsTimeoutKeepsWhatItReportedHavingPrinted() {
    InterpreterPool pool = pool(1, 30, 0);
    // 3 s: ample time for the report, which comes half a second after the print
    TaskOutcome outcome = run(pool, "print_then_hang", "args1", 3);
    assertFailure("TimeoutError", outcome);
    assertEquals(new TaskOutput("before the hang\n", "", false), outcome.output());
  }

  @Test
  void aSilentTaskCarriesNoOutput() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "double", "args21", null);
    assertValue("42", outcome);
    assertEquals(TaskOutput.NONE, outcome.output());
  }

  @Test
  void liveOutputArrivesWhileTheTaskStillRuns() throws IOException {
    InterpreterPool pool = pool(1, 30, 0);
    // The task waits for a file that the test creates only once it has seen the live output: the outcome
    // can come first only if live output never arrives (then the task gives up after 30 s and says so).
    Path flag = Files.createTempDirectory("live-output").resolve("seen");
    String args = Py.payloads("out['a'] = enc((('" + flag + "',), {}))").getString("a");
    TaskSpec task = new TaskSpec(UUID.randomUUID().toString(), "fid-print_then_wait",
        payloads.getString("print_then_wait"), args, null, Environments.DEFAULT);
    List<String> events = new ArrayList<>();
    TaskOutcome outcome = on(() -> {
      pool.onOutput((taskId, output) -> {
        events.add("output " + taskId + " " + output.stdout());
        flag.toFile().mkdir();
      });
      return pool.run(task).onSuccess(o -> events.add("outcome"));
    });
    assertValue("True", outcome);
    assertEquals("output " + task.taskId() + " started\n", events.get(0));
    assertEquals("outcome", events.get(events.size() - 1));
    assertEquals("started\ndone\n", outcome.output().stdout());
  }

  @Test
  void userCodeReadsAnEmptyStdinNotTheProtocol() {
    InterpreterPool pool = pool(1, 30, 0);
    assertValue("\"''\"", run(pool, "reads_stdin", "args21", null));
  }

  @Test
  void userCodeSeesOnlyTheAllowedEnvironment() {
    InterpreterPool pool = pool(1, 30, 0);
    TaskOutcome outcome = run(pool, "env", "args21", null);
    assertTrue(outcome.ok(), outcome.error());
    String names = Py.describe(outcome.result()).getString("repr");
    // Inherited ones, and the two malloc settings the platform gives every runner (no secret in either).
    List<String> allowed = List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH",
        "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_");
    for (String name : names.replaceAll("[\\[\\]' ]", "").split(",")) {
      if (!name.isEmpty()) {
        assertTrue(allowed.contains(name), "user code sees " + name + " (all: " + names + ")");
      }
    }
  }

  @Test
  void theMemoryLimitStopsAGreedyTaskOnly() {
    InterpreterPool pool = pool(1, 30, 300);
    assertFailure("MemoryError", run(pool, "hog", "args600", null));
    assertValue("1048576", run(pool, "hog", "args1", null));
  }

  @Test
  void closeFailsTasksStillWaiting() {
    InterpreterPool pool = pool(1, 30, 0);
    List<TaskOutcome> outcomes = on(() -> {
      List<Future<TaskOutcome>> runs = new ArrayList<>();
      runs.add(pool.run(task("sleep30", "args21", null)));
      runs.add(pool.run(task("double", "args21", null)));
      runs.add(pool.run(task("double", "args1", null))); // waits in the pool
      pool.close();
      return Future.all(runs).map(all -> all.<TaskOutcome>list());
    });
    for (TaskOutcome outcome : outcomes) {
      assertFalse(outcome.ok());
    }
  }

  @Test
  void aTaskGivenAfterCloseFailsInsteadOfHanging() {
    InterpreterPool pool = pool(1, 30, 0);
    on(pool::close);
    TestRedis.eventually(Duration.ofSeconds(10), "the closed pool's interpreters have exited",
        () -> on(() -> Future.succeededFuture(pool.room())) == 0);
    Future<TaskOutcome> late = on(() -> Future.succeededFuture(pool.run(task("double", "args21", null))));
    TestRedis.eventually(Duration.ofSeconds(5), "a task given to a closed pool completes", late::isComplete);
    assertFalse(late.result().ok());
  }

  @Test
  void stoppingAnInterpreterOnPurposeIsNotLoggedAsAnUnreadableReply() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Interpreter.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      InterpreterPool pool = pool(1, 30, 0);
      assertFailure("TimeoutError", run(pool, "sleep30", "args21", 1));
      assertValue("42", run(pool, "double", "args21", null)); // the replacement is up: the old one is gone
      List<String> warnings = appender.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
      assertTrue(warnings.stream().noneMatch(w -> w.contains("unreadable reply")),
          "a timeout kill is reported as a protocol error: " + warnings);
    } finally {
      logger.detachAppender(appender);
    }
  }
}
