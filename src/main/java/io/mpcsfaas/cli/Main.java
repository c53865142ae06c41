package io.mpcsfaas.cli;

import io.mpcsfaas.api.ApiVerticle;
import io.mpcsfaas.bench.Bench;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.mpcsfaas.store.RedisServer;
import io.mpcsfaas.transport.Protocol;
import io.mpcsfaas.worker.RemoteWorkerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code ./faas} commands: each builds its config, deploys its verticles and runs until stopped. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** Each command and what it does, in the order {@code --help} lists them. */
  private static final Map<String, String> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("up", "the whole platform in one process: API, dispatcher (and in pull or push mode one "
        + "worker), and its own Redis if none answers");
    COMMANDS.put("api", "the HTTP API alone");
    COMMANDS.put("dispatcher", "the task dispatcher alone (-m local|pull|push, -p ZeroMQ port, -w interpreters)");
    COMMANDS.put("pull-worker", "<num_worker_processors> <dispatcher url>: a worker that asks for tasks");
    COMMANDS.put("push-worker", "<num_worker_processors> <dispatcher url>: a worker the dispatcher sends tasks to");
    COMMANDS.put("cluster-worker", "<num_worker_processors>: a worker that joins the Vert.x cluster of a "
        + "cluster-mode dispatcher");
    COMMANDS.put("status", "queue depth, workers and recent throughput of a running platform");
    COMMANDS.put("bench", "measure a running server, or sweep modes and slots (./faas bench --help)");
    COMMANDS.put("test", "run every test (Java and Python), installing what is missing");
  }

  static String usage() {
    StringBuilder out = new StringBuilder("usage: ./faas <command> [options]; ./faas <command> --help\n\n");
    COMMANDS.forEach((name, what) -> out.append(String.format("  %-12s %s%n", name, what)));
    return out.toString();
  }

  static String usage(String command) {
    return "usage: ./faas " + command + " [options]: " + COMMANDS.get(command) + "\n" + Options.help(command);
  }

  private static final long STOP_LIMIT_SECONDS = 75;

  private Main() {}

  public static void main(String[] args) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.print(usage());
      return;
    }
    String command = args[0];
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    if (COMMANDS.containsKey(command) && !command.equals("bench") && !command.equals("status")
        && (List.of(rest).contains("--help") || List.of(rest).contains("-h"))) {
      System.out.print(usage(command));
      return;
    }
    try {
      switch (command) {
        case "up" -> up(Options.parse(rest, "api.port").config);
        case "api" -> run(Options.parse(rest, "api.port").config, null, EnumSet.of(Component.API));
        case "dispatcher" -> run(Options.parse(rest, "dispatcher.port").config, null,
            EnumSet.of(Component.DISPATCHER));
        case "bench" -> System.exit(Bench.main(rest));
        case "status" -> System.exit(Status.main(rest));
        case "pull-worker" -> run(workerConfig("pull", rest), null, EnumSet.of(Component.WORKER));
        case "push-worker" -> run(workerConfig("push", rest), null, EnumSet.of(Component.WORKER));
        case "cluster-worker" -> run(workerConfig("cluster", rest), null, EnumSet.of(Component.WORKER));
        default -> throw new UsageException("unknown command '" + command + "'");
      }
    } catch (UsageException e) {
      System.err.println("faas: " + e.getMessage());
      System.err.print(COMMANDS.containsKey(command) ? usage(command) : usage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("faas: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * {@code <slots> <dispatcher url>} and options, as the original MPCSFaaS workers take them; a cluster
   * worker finds its dispatcher through the cluster and takes only {@code <slots>}.
   */
  private static JsonObject workerConfig(String mode, String[] args) {
    Options options = Options.parse(args, "dispatcher.port");
    boolean cluster = mode.equals("cluster");
    if (options.positional.size() != (cluster ? 1 : 2)) {
      throw new UsageException(mode + "-worker needs <num_worker_processors>" + (cluster ? "" : " <dispatcher url>"));
    }
    try {
      JsonObject config = options.config.put("mode", mode)
          .put("workers", Integer.parseInt(options.positional.get(0)));
      return cluster ? config : Conf.put(config, "dispatcher.url", options.positional.get(1));
    } catch (NumberFormatException e) {
      throw new UsageException("num_worker_processors must be a number, got " + options.positional.get(0));
    }
  }

  private enum Component { API, DISPATCHER, WORKER }

  /** The whole platform: Redis if none answers, the API, a dispatcher, and in pull/push mode one worker. */
  private static void up(JsonObject config) throws IOException, InterruptedException {
    EnumSet<Component> components = EnumSet.of(Component.API, Component.DISPATCHER);
    if (Conf.mode(config) != Mode.LOCAL) {
      components.add(Component.WORKER);
      // The embedded worker shares the dispatcher's JVM: in-process ZeroMQ, no TCP.
      Conf.put(config, "dispatcher.url", Protocol.inprocAddress(Conf.string(config, "dispatcher.name")));
    }
    run(config, startRedisIfAbsent(config), components);
  }

  /** Deploys the components and blocks until the JVM is asked to stop (Ctrl-C, SIGTERM). */
  private static void run(JsonObject config, RedisServer redis, Set<Component> components)
      throws InterruptedException {
    Vertx vertx = Conf.mode(config) == Mode.CLUSTER ? Cluster.join(config) : Vertx.vertx();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping");
      try {
        // Bounded: a worker finishes its tasks first (up to its drain limit), but a lost Redis must not
        // keep the process from exiting.
        vertx.close().timeout(STOP_LIMIT_SECONDS, TimeUnit.SECONDS).await();
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
    for (Component component : components) {
      deployments.add(vertx.deployVerticle(switch (component) {
        case API -> new ApiVerticle();
        case DISPATCHER -> new DispatcherVerticle();
        case WORKER -> new RemoteWorkerVerticle();
      }, options));
    }
    try {
      Future.all(deployments).await();
    } catch (Exception e) {
      LOG.error("could not start: {}", e.getMessage());
      System.exit(1);
    }
    LOG.info("MPCSFaaS running: {} in {} mode", components, Conf.string(config, "mode"));
    stopped.await();
  }

  /** Starts an append-only redis-server when nothing answers at a loopback Redis URL. */
  private static RedisServer startRedisIfAbsent(JsonObject config) throws IOException {
    String url = Conf.string(config, "redis.url");
    InetSocketAddress address = RedisServer.address(url);
    String host = address.getHostString();
    boolean loopback = host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
    if (!loopback || RedisServer.answers(host, address.getPort())) {
      return null;
    }
    Path dir = Path.of(Conf.string(config, "redis.data_dir"));
    LOG.info("no Redis at {}; starting redis-server on port {} with data in {}", url, address.getPort(),
        dir.toAbsolutePath());
    return RedisServer.start(address.getPort(), dir, true);
  }
}
