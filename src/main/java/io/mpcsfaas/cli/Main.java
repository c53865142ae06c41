package io.mpcsfaas.cli;

import io.mpcsfaas.api.ApiVerticle;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code ./faas} commands: each builds its config, deploys its verticles and runs until stopped. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final String USAGE = """
      usage: ./faas <command> [options]

      commands:
        up            the whole platform in one process: API + dispatcher (and Redis if none answers)
        api           the HTTP API alone
        dispatcher    the task dispatcher alone
        test          run every test (Java and Python)

      options (defaults in brackets; --conf FILE loads a JSON config with the same keys):
        --port N            API port [8000] (-p for up and api)
        -m, --mode MODE     dispatch mode [local]
        -w N                interpreter processes in local mode [one per core]
        --redis URL         Redis connection string [$REDIS_URL or redis://127.0.0.1:6379]
        --prefix P          prefix of every Redis key [faas:]
        --name NAME         dispatcher name, its consumer name in Redis [dispatcher]
        --max-attempts N    times a task may lose its worker before it fails [3]
        --task-timeout S    default per-task timeout in seconds [300]
        --memory-limit-mb N address-space cap per interpreter, 0 for none [0]
        --python PATH       Python 3 that can import dill [$FAAS_PYTHON, python3, /usr/bin/python3]
        --body-limit BYTES  largest request body the API accepts [16777216]
        --data-dir DIR      folder of the embedded Redis started by up [data/redis]
        --conf FILE         JSON config (see conf/local.json)
      """;

  private Main() {}

  public static void main(String[] args) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.print(USAGE);
      return;
    }
    String command = args[0];
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (command) {
        case "up" -> run(Options.parse(rest, "api.port").config, true, true, true);
        case "api" -> run(Options.parse(rest, "api.port").config, true, false, false);
        case "dispatcher" -> run(Options.parse(rest, "dispatcher.port").config, false, true, false);
        default -> throw new UsageException("unknown command '" + command + "'");
      }
    } catch (UsageException e) {
      System.err.println("faas: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
    } catch (Exception e) {
      System.err.println("faas: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Deploys the chosen verticles and blocks until the JVM is asked to stop (Ctrl-C, SIGTERM). */
  private static void run(JsonObject config, boolean api, boolean dispatcher, boolean embedRedis)
      throws IOException, InterruptedException {
    RedisServer redis = embedRedis ? startRedisIfAbsent(config) : null;
    Vertx vertx = Vertx.vertx();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping");
      try {
        vertx.close().await();
      } catch (Exception e) {
        LOG.warn("while stopping: {}", e.getMessage());
      }
      if (redis != null) {
        redis.close();
      }
      stopped.countDown();
    }, "shutdown"));

    List<Future<String>> deployments = new ArrayList<>();
    DeploymentOptions options = new DeploymentOptions().setConfig(config);
    if (api) {
      deployments.add(vertx.deployVerticle(new ApiVerticle(), options));
    }
    if (dispatcher) {
      deployments.add(vertx.deployVerticle(new DispatcherVerticle(), options));
    }
    try {
      Future.all(deployments).await();
    } catch (Exception e) {
      LOG.error("could not start: {}", e.getMessage());
      System.exit(1);
    }
    LOG.info("MPCSFaaS running: {}{}(mode {}, Redis {})",
        api ? "API on port " + config.getInteger("api.port") + " " : "",
        dispatcher ? "dispatcher with " + config.getInteger("workers") + " interpreters " : "",
        config.getString("mode"), config.getString("redis.url"));
    stopped.await();
  }

  /** Starts an append-only redis-server when nothing answers at a loopback Redis URL. */
  private static RedisServer startRedisIfAbsent(JsonObject config) throws IOException {
    InetSocketAddress address = RedisServer.address(config.getString("redis.url"));
    String host = address.getHostString();
    boolean loopback = host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
    if (!loopback || RedisServer.answers(host, address.getPort())) {
      return null;
    }
    Path dir = Path.of(config.getString("redis.data_dir", "data/redis"));
    LOG.info("no Redis at {}; starting redis-server on port {} with data in {}",
        config.getString("redis.url"), address.getPort(), dir.toAbsolutePath());
    return RedisServer.start(address.getPort(), dir, true);
  }
}
