package io.mpcsfaas;

import io.mpcsfaas.store.RedisServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Redis master, two replicas of it and three {@code redis-sentinel}s watching it (quorum 2, down after 2 s),
 * each on a free loopback port with its files in a folder of its own, for tests of a failover. Started ready:
 * every Sentinel knows both replicas and the two other Sentinels, so that a killed master is replaced. Down
 * after 2 s, not 1: a loaded 2-core machine can hold a PING answer for a second, and a needless failover
 * (whose Sentinels kill the clients of the demoted master) would fail a test that did not ask for one.
 */
public final class TestSentinels implements AutoCloseable {
  public static final String MASTER = "faasmaster";
  private static final Duration READY_LIMIT = Duration.ofSeconds(30);

  private final List<RedisServer> servers = new ArrayList<>();
  private final List<Process> sentinels = new ArrayList<>();
  private final List<Integer> sentinelPorts = new ArrayList<>();

  private TestSentinels() {}

  public static TestSentinels start(Path dir) throws IOException {
    TestSentinels setup = new TestSentinels();
    try {
      RedisServer master = RedisServer.start(TestRedis.freePort(), dir.resolve("redis-0"), false);
      setup.servers.add(master);
      for (int i = 1; i <= 2; i++) {
        setup.servers.add(RedisServer.start(TestRedis.freePort(), dir.resolve("redis-" + i), false,
            "--replicaof", "127.0.0.1", Integer.toString(master.port())));
      }
      TestRedis.eventually(READY_LIMIT, "both replicas in sync",
          () -> info(master.port(), "replication").contains("connected_slaves:2")
              && setup.servers.subList(1, 3).stream()
                  .allMatch(r -> info(r.port(), "replication").contains("master_link_status:up")));
      for (int i = 0; i < 3; i++) {
        setup.startSentinel(dir.resolve("sentinel-" + i), master.port());
      }
      TestRedis.eventually(READY_LIMIT, "every Sentinel to know two replicas and two other Sentinels",
          () -> setup.sentinelPorts.stream().allMatch(port -> {
            List<String> fields = cli(port, "SENTINEL", "MASTER", MASTER);
            return value(fields, "num-slaves").equals("2") && value(fields, "num-other-sentinels").equals("2");
          }));
      return setup;
    } catch (IOException | RuntimeException | Error e) {
      setup.close();
      throw e;
    }
  }

  private void startSentinel(Path dir, int masterPort) throws IOException {
    Files.createDirectories(dir);
    int port = TestRedis.freePort();
    Path conf = dir.resolve("sentinel.conf");
    Files.writeString(conf, String.join("\n", "port " + port, "bind 127.0.0.1", "daemonize no", "dir " + dir,
        "logfile sentinel.log", "sentinel monitor " + MASTER + " 127.0.0.1 " + masterPort + " 2",
        "sentinel down-after-milliseconds " + MASTER + " 2000", "sentinel failover-timeout " + MASTER + " 10000",
        ""));
    sentinels.add(new ProcessBuilder("redis-sentinel", conf.toString()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    sentinelPorts.add(port);
    TestRedis.eventually(READY_LIMIT, "redis-sentinel on port " + port, () -> RedisServer.answers("127.0.0.1", port));
  }

  /** The Sentinels as {@code --redis-sentinels} takes them. */
  public String sentinels() {
    return sentinelPorts.stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
  }

  /** The port of the master the Sentinels name now. */
  public int masterPort() {
    return Integer.parseInt(cli(sentinelPorts.get(0), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER).get(1));
  }

  /** The server that is the master now. */
  public RedisServer master() {
    int port = masterPort();
    return servers.stream().filter(server -> server.port() == port).findFirst().orElseThrow();
  }

  /** The first master (index 0) and its replicas (1 and 2). */
  public RedisServer server(int index) {
    return servers.get(index);
  }

  /** One redis-cli command to a loopback port: its output lines. */
  public static List<String> cli(int port, String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor(10, TimeUnit.SECONDS);
      return out.lines().toList();
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private static String info(int port, String section) {
    return String.join("\n", cli(port, "INFO", section));
  }

  /** The value after {@code key} in a reply of alternating keys and values. */
  private static String value(List<String> fields, String key) {
    int at = fields.indexOf(key);
    return at < 0 || at + 1 >= fields.size() ? "" : fields.get(at + 1);
  }

  @Override
  public void close() {
    for (Process sentinel : sentinels) {
      sentinel.destroy();
    }
    for (Process sentinel : sentinels) {
      try {
        if (!sentinel.waitFor(10, TimeUnit.SECONDS)) {
          sentinel.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    servers.forEach(RedisServer::close);
  }
}
