package io.mpcsfaas.cli;

import io.mpcsfaas.api.ApiVerticle;
import io.mpcsfaas.bench.Bench;
import io.mpcsfaas.bench.Peers;
import io.mpcsfaas.config.ApiConfig;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.mpcsfaas.store.Handover;
import io.mpcsfaas.store.RedisServer;
import io.mpcsfaas.transport.Protocol;
import io.mpcsfaas.worker.RemoteWorkerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** The {@code ./faas} commands: each builds its config, deploys its verticles and runs until stopped. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** A command line the launcher cannot act on. */
  private static final int USAGE_ERROR = 2;
  private static final long STOP_LIMIT_SECONDS = 75;

  private Main() {}

  public static void main(String[] args) {
    liftJsonStringLimit();
    System.exit(run(args));
  }

  /**
   * Jackson refuses a JSON string over 20 MB by default, which a payload of 15 MiB base64-encoded passes; the
   * body limit (api.body_limit) bounds the strings instead. Vert.x builds its Jackson factory from this
   * property when its JSON codec first loads, so it is set before anything touches JSON (surefire sets it
   * for the tests).
   */
  private static void liftJsonStringLimit() {
    System.setProperty("vertx.jackson.defaultReadMaxStringLength", Integer.toString(Integer.MAX_VALUE));
  }

  /** Runs a command; the exit code (servers return only on a failed start: they stop with the JVM). */
  static int run(String[] args) {
    CommandLine line = Commands.line();
    try {
      ParseResult parsed = line.parseArgs(args);
      if (CommandLine.printHelpIfRequested(parsed)) {
        return 0;
      }
      if (!parsed.hasSubcommand()) {
        line.usage(System.out);
        return 0;
      }
      return execute(parsed.subcommand());
    } catch (ParameterException e) {
      // One line that names the option and the value; --help has the rest.
      System.err.println("faas: " + e.getMessage().lines().findFirst().orElse("") + " (see ./faas "
          + (e.getCommandLine() == line ? "" : e.getCommandLine().getCommandName() + " ") + "--help)");
      return USAGE_ERROR;
    } catch (Exception e) {
      System.err.println("faas: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    }
  }

  private static int execute(ParseResult command) throws Exception {
    String name = command.commandSpec().name();
    return switch (name) {
      case "status" -> ((Status) command.commandSpec().userObject()).call();
      case "keygen" -> ((Keygen) command.commandSpec().userObject()).call();
      case "bench" -> ((Bench) command.commandSpec().userObject()).call();
      case "peers" -> ((Peers) command.commandSpec().userObject()).call();
      case "test" -> throw new ParameterException(command.commandSpec().commandLine(),
          "the tests are run by the ./faas script, not by the jar");
      case "up" -> up(Options.config(command));
      case "api" -> serve(Options.config(command), null, EnumSet.of(Component.API));
      default -> serve(Options.config(command), null, EnumSet.of(
          name.equals("dispatcher") ? Component.DISPATCHER : Component.WORKER));
    };
  }

  private enum Component { API, DISPATCHER, WORKER }

  /** The whole platform: Redis if none answers, the API, a dispatcher, and in pull/push mode one worker. */
  private static int up(JsonObject config) throws IOException, InterruptedException {
    EnumSet<Component> components = EnumSet.of(Component.API, Component.DISPATCHER);
    if (Conf.mode(config) != Mode.LOCAL) {
      components.add(Component.WORKER);
      // The embedded worker shares the dispatcher's JVM: in-process ZeroMQ, no TCP.
      Conf.put(config, "dispatcher.url", Protocol.inprocAddress(Conf.string(config, "dispatcher.name")));
    }
    return serve(config, startRedisIfAbsent(config), components);
  }

  /**
   * Deploys the components and blocks until the JVM is asked to stop (Ctrl-C, SIGTERM); returns 1 at once
   * when one cannot start.
   */
  private static int serve(JsonObject config, RedisServer redis, Set<Component> components)
      throws InterruptedException {
    // A cluster worker alone joins the cluster through its link, which it can then leave and join again.
    Vertx vertx = Conf.mode(config) == Mode.CLUSTER && components.contains(Component.DISPATCHER)
        ? Cluster.join(config) : Metrics.vertx(new VertxOptions()).build();
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
    // Sharing a JVM, the API and the dispatcher pass big arguments and results by reference, besides Redis.
    Handover handover = components.containsAll(EnumSet.of(Component.API, Component.DISPATCHER))
        ? Handover.forThisJvm() : Handover.NONE;
    ApiVerticle api = new ApiVerticle(handover);
    for (Component component : components) {
      deployments.add(vertx.deployVerticle(switch (component) {
        case API -> api;
        case DISPATCHER -> new DispatcherVerticle(handover);
        case WORKER -> new RemoteWorkerVerticle();
      }, options));
    }
    try {
      Future.all(deployments).await();
    } catch (Exception e) {
      System.err.println("faas: could not start: " + e.getMessage());
      return 1;
    }
    String mode = components.equals(EnumSet.of(Component.API)) ? "" : " in " + Conf.string(config, "mode") + " mode";
    if (components.contains(Component.API)) {
      ApiConfig conf = ApiConfig.from(config);
      if (!conf.keysFile().isEmpty()) {
        reloadKeysOnHangUp(api);
      }
      String host = conf.host().equals("0.0.0.0") ? "127.0.0.1" : conf.host();
      String base = (conf.tls() ? "https://" : "http://") + host + ":" + api.port();
      LOG.info("MPCSFaaS running: {}{}; API {}, docs {}/docs", components, mode, base, base);
    } else {
      LOG.info("MPCSFaaS running: {}{}", components, mode);
    }
    stopped.await();
    return 0;
  }

  /**
   * SIGHUP (kill -HUP) re-reads the API keys file, as daemons re-read their config, instead of stopping the JVM.
   * The JVM's signal thread calls the handler: reading a small file there blocks no event loop.
   */
  private static void reloadKeysOnHangUp(ApiVerticle api) {
    try {
      // The JVM leaves a signal its parent ignored (nohup) ignored, and says so only by the handler it returns.
      if (Signal.handle(new Signal("HUP"), signal -> api.reloadKeys()) == SignalHandler.SIG_IGN) {
        LOG.warn("SIGHUP is ignored in this process (started under nohup?): kill -HUP cannot re-read the API keys file;"
            + " start it without nohup (setsid, systemd) to re-read keys without a restart");
      }
    } catch (IllegalArgumentException e) { // the JVM keeps SIGHUP (-Xrs, or no such signal here)
      LOG.warn("SIGHUP cannot re-read the API keys file here: {}", e.getMessage());
    }
  }

  /** Starts an append-only redis-server when nothing answers at a loopback Redis URL (and no Sentinel is given). */
  private static RedisServer startRedisIfAbsent(JsonObject config) throws IOException {
    if (RedisConfig.from(config).sentinel()) {
      return null;
    }
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
    // Redis's default proto-max-bulk-len (512 MiB) fits every value sent to it: a function's payload is at most
    // that, and a task's payload or result longer than 256 MiB goes in pieces (store/LargeValues.java).
    return RedisServer.start(address.getPort(), dir, true);
  }
}
