package io.mpcsfaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Environments;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParameterException;

/** The command line: the original spellings, the order of config sources, and one-line usage errors. */
class CommandsTest {

  private static JsonObject config(String... args) {
    return Options.config(Commands.line().parseArgs(args).subcommand());
  }

  @Test
  void dashPIsTheApiPortForUpAndApiAndTheZeroMqPortForTheDispatcher() {
    assertEquals(9001, Conf.integer(config("api", "-p", "9001"), "api.port"));
    assertEquals(9002, Conf.integer(config("up", "-p", "9002"), "api.port"));
    JsonObject dispatcher = config("dispatcher", "-p", "9003");
    assertEquals(9003, Conf.integer(dispatcher, "dispatcher.port"));
    assertEquals(8000, Conf.integer(dispatcher, "api.port"));
  }

  @Test
  void theOriginalSpellingsOfModeAndWorkersParse() {
    assertEquals("push", Conf.string(config("up", "-mode", "push"), "mode"));
    assertEquals("pull", Conf.string(config("dispatcher", "-m", "pull", "-w", "3"), "mode"));
    assertEquals(3, Conf.integer(config("dispatcher", "-w", "3"), "workers"));
    JsonObject worker = config("push-worker", "4", "tcp://10.0.0.1:5555", "--worker-token", "t");
    assertEquals("push", Conf.string(worker, "mode"));
    assertEquals(4, Conf.integer(worker, "workers"));
    assertEquals("tcp://10.0.0.1:5555", Conf.string(worker, "dispatcher.url"));
    assertEquals("t", Conf.string(worker, "worker.token"));
    assertEquals("cluster", Conf.string(config("cluster-worker", "2"), "mode"));
  }

  @Test
  void envIsRepeatableAndNamesEnvironmentsBesideTheDefault(@TempDir Path dir) throws Exception {
    JsonObject worker = config("pull-worker", "2", "tcp://127.0.0.1:5555", "--python", "/usr/bin/python3",
        "--env", "ml=/opt/ml/bin/python", "--env", "old.v-1_2=/opt/old/bin/python");
    assertEquals(Map.of("default", "/usr/bin/python3", "ml", "/opt/ml/bin/python",
        "old.v-1_2", "/opt/old/bin/python"), Environments.from(worker));
    assertEquals(List.of("default"), List.copyOf(Environments.from(config("dispatcher")).keySet()));
    Path file = dir.resolve("local.json");
    Files.writeString(file, "{\"environments\": [\"ml=/opt/ml/bin/python\"]}");
    assertEquals("/opt/ml/bin/python", Environments.from(config("up", "--conf", file.toString())).get("ml"));

    for (String bad : List.of("ml", "ml=", "a b=/x", "default=/x", "x".repeat(65) + "=/x")) {
      ParameterException e = assertThrows(ParameterException.class, () -> config("up", "--env", bad));
      assertTrue(e.getMessage().contains("--env"), e.getMessage());
    }
    assertThrows(ParameterException.class, () -> config("up", "--env", "a=/x", "--env", "a=/y"));
  }

  @Test
  void flagsOverrideTheConfFileWhichOverridesTheDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("push.json");
    Files.writeString(file, "{\"mode\": \"push\", \"api\": {\"port\": 9100}, \"workers\": 5}");
    JsonObject fromFile = config("up", "--conf", file.toString());
    assertEquals(9100, Conf.integer(fromFile, "api.port"));
    assertEquals("push", Conf.string(fromFile, "mode"));
    assertEquals(5555, Conf.integer(fromFile, "dispatcher.port"), "a key the file lacks keeps its default");
    JsonObject flagged = config("up", "--conf", file.toString(), "--port", "9200", "-w", "1");
    assertEquals(9200, Conf.integer(flagged, "api.port"));
    assertEquals(1, Conf.integer(flagged, "workers"));
    assertEquals("push", Conf.string(flagged, "mode"));
  }

  @Test
  void aValueAFileGetsWrongIsAUsageError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\"mode\": \"carrier-pigeon\"}");
    ParameterException e = assertThrows(ParameterException.class, () -> config("up", "--conf", file.toString()));
    assertTrue(e.getMessage().contains("carrier-pigeon"), e.getMessage());
    Files.writeString(file, "{\"api\": {\"port\": \"eighty\"}}");
    e = assertThrows(ParameterException.class, () -> config("api", "--conf", file.toString()));
    assertTrue(e.getMessage().contains("api.port") && e.getMessage().contains("eighty"), e.getMessage());
  }

  @Test
  void everyBadFlagOrValueExitsTwoWithOneLineNamingIt() {
    String[][] cases = {
        {"--port", "abc", "api", "--port", "abc"},
        {"--interval", "abc", "status", "--interval", "abc"},
        {"--bogus", "--bogus", "up", "--bogus"},
        {"-w", "-w", "api", "-w", "2"},
        {"nope", "nope", "dispatcher", "-m", "nope"},
        {"missing.json", "missing.json", "up", "--conf", "missing.json"},
        {"<num_worker_processors>", "x", "pull-worker", "x", "tcp://127.0.0.1:5555"},
        {"<dispatcher url>", "<dispatcher url>", "push-worker", "2"},
        {"frobnicate", "frobnicate", "frobnicate"},
        {"--redis-sentinels", "10.0.0.1", "up", "--redis-sentinels", "10.0.0.1:26379,10.0.0.1"},
        {"--redis-min-replicas", "--redis-wait-ms", "dispatcher", "--redis-min-replicas", "-1"},
        {"--tasks", "abc", "bench", "--tasks", "abc"},
        {"--modes", "carrier-pigeon", "bench", "--sweep", "--modes", "local,carrier-pigeon"},
        {"--mode", "local", "peers", "--mode", "local"},
        {"--slots", "0", "peers", "--slots", "0"}};
    for (String[] c : cases) {
      String[] args = java.util.Arrays.copyOfRange(c, 2, c.length);
      Run run = run(args);
      assertEquals(2, run.code, String.join(" ", args));
      assertEquals(1, run.err.lines().count(), "one line for " + String.join(" ", args) + ": " + run.err);
      assertTrue(run.err.contains(c[0]) && run.err.contains(c[1]), run.err);
      assertTrue(run.out.isEmpty(), run.out);
    }
  }

  @Test
  void versionIsThePomsAndHelpListsEveryCommandAndEachSettingWithItsDefault() throws Exception {
    Run version = run("--version");
    assertEquals(0, version.code);
    assertEquals("MPCSFaaS " + Commands.version(), version.out.strip());
    assertTrue(Files.readString(Path.of("pom.xml")).contains("<version>" + Commands.version() + "</version>"));
    Run help = run("--help");
    Commands.ALL.keySet().forEach(command -> assertTrue(help.out.contains("  " + command + " "), command));
    Run up = run("up", "--help");
    assertEquals(0, up.code);
    assertTrue(up.out.contains("-m, -mode, --mode=MODE"), up.out);
    assertTrue(up.out.contains("-p, --port=PORT") && up.out.contains("[default 8000]"), up.out);
    assertTrue(run("dispatcher", "--help").out.contains("-p, --dispatcher-port=PORT"));
    assertTrue(run("pull-worker", "--help").out.contains("<num_worker_processors> <dispatcher url>"));
  }

  @Test
  void theWorkerSecurityFlagsReachTheirKeysAndTheClusterTlsFilesComeTogether(@TempDir Path dir) {
    JsonObject worker = config("push-worker", "1", "tcp://127.0.0.1:5555", "--curve-secret-key", "w.key",
        "--curve-server-key", "d.pub");
    assertEquals("w.key", Conf.string(worker, "curve.secret_key"));
    assertEquals("d.pub", Conf.string(worker, "curve.server_key"));
    JsonObject dispatcher = config("dispatcher", "-m", "push", "--curve-secret-key", "d.key",
        "--curve-authorized-keys", "workers/");
    assertEquals("workers/", Conf.string(dispatcher, "curve.authorized_keys"));
    assertEquals("c.pem", Conf.string(config("cluster-worker", "1", "--cluster-tls-cert", "c.pem",
        "--cluster-tls-key", "c.key", "--cluster-tls-ca", "ca.pem"), "cluster.tls_cert"));

    Run half = run("cluster-worker", "1", "--cluster-tls-cert", "c.pem");
    assertEquals(2, half.code);
    assertTrue(half.err.contains("--cluster-tls-key") && half.err.contains("--cluster-tls-ca"), half.err);
    assertEquals(2, run("pull-worker", "1", "tcp://127.0.0.1:5555", "--curve-authorized-keys", "x").code,
        "a worker has no authorized keys");

    Run keygen = run("keygen", "--out", dir.toString(), "--name", "w");
    assertEquals(0, keygen.code, keygen.err);
    assertTrue(Files.exists(dir.resolve("w.key")) && Files.exists(dir.resolve("w.pub")));
    assertTrue(keygen.out.contains(io.mpcsfaas.transport.CurveKeys.read(dir.resolve("w.pub"))), keygen.out);
    assertEquals(1, run("keygen", "--out", dir.toString(), "--name", "w").code, "never overwrites");
  }

  @Test
  void statusWithoutAServerSaysItFoundNone() {
    Run run = run("status", "--url", "http://127.0.0.1:" + io.mpcsfaas.TestRedis.freePort(), "--interval", "0.1");
    assertEquals(1, run.code);
    assertTrue(run.err.startsWith("faas: found no MPCSFaaS API at http://127.0.0.1:"), run.err);
    assertTrue(!run.err.contains("null"), run.err);
  }

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
