package io.mpcsfaas.bench;

import io.mpcsfaas.config.ClusterConfig;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.transport.ClusterMember;
import io.mpcsfaas.worker.RemoteWorkerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./faas peers}: many simulated workers in one JVM for the capacity plan (docs/scaling.md). Each is a real
 * {@link RemoteWorkerVerticle} (its own ZeroMQ socket, or its own event-bus address on this JVM's one cluster
 * member) whose pool ends every task at once ({@link InstantPool}), so the dispatcher, Redis and the API carry
 * the whole load of a large fleet while the peers cost little.
 */
@Command(name = "peers", sortOptions = false, usageHelpWidth = 110, optionListHeading = "%nOptions:%n",
    customSynopsis = {"./faas peers --mode push|pull --count N --slots S <dispatcher url>",
        "       ./faas peers --mode cluster --count N --slots S --join HOST[:PORT] [--name DISPATCHER]"})
public final class Peers implements Callable<Integer> {
  @Spec
  private CommandSpec spec;
  private String mode;
  private int count;
  private int slots;

  @Option(names = "--join", paramLabel = "HOST[:PORT]", defaultValue = "127.0.0.1", order = 3,
      description = "cluster mode: a member of the dispatcher's cluster [default ${DEFAULT-VALUE}]")
  private String join;

  @Option(names = "--cluster-port", paramLabel = "PORT", defaultValue = "5801", order = 4,
      description = "cluster mode: this JVM's Hazelcast port (the next free one above it) [default ${DEFAULT-VALUE}]")
  private int clusterPort;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "dispatcher", order = 5,
      description = "cluster mode: the dispatcher's --name [default ${DEFAULT-VALUE}]")
  private String name;

  @Option(names = "--worker-token", paramLabel = "TOKEN", defaultValue = "", order = 6,
      description = "the dispatcher's --worker-token, if it has one")
  private String token;

  @Parameters(index = "0", arity = "0..1", paramLabel = "URL", defaultValue = "tcp://127.0.0.1:5555",
      description = "push or pull mode: the dispatcher's ZeroMQ address [default ${DEFAULT-VALUE}]")
  private String url;

  @Option(names = {"-h", "--help"}, usageHelp = true, order = 15, description = "this help")
  private boolean help;

  @Option(names = "--mode", paramLabel = "MODE", defaultValue = "push", order = 0,
      description = "push, pull or cluster [default ${DEFAULT-VALUE}]")
  void mode(String word) {
    mode = OptionChecks.oneOf(spec, List.of("push", "pull", "cluster"), word, "--mode");
  }

  @Option(names = "--count", paramLabel = "N", defaultValue = "1000", order = 1,
      description = "workers [default ${DEFAULT-VALUE}]")
  void count(int n) {
    count = OptionChecks.atLeast(spec, 1, n, "--count");
  }

  @Option(names = "--slots", paramLabel = "S", defaultValue = "4", order = 2,
      description = "tasks each holds at once [default ${DEFAULT-VALUE}]")
  void slots(int n) {
    slots = OptionChecks.atLeast(spec, 1, n, "--slots");
  }

  @Override
  public Integer call() throws Exception {
    JsonObject conf = new JsonObject().put("mode", mode).put("workers", slots).put("dispatcher.url", url)
        .put("dispatcher.name", name).put("worker.token", token).put("cluster.join", join)
        .put("cluster.port", clusterPort);
    Vertx vertx = vertx(conf);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      vertx.close().await();
      stopped.countDown();
    }, "shutdown"));
    deploy(vertx, conf, count).await();
    System.out.printf("%d %s peers of %d slots each are running; Ctrl-C stops them%n", count, mode, slots);
    stopped.await();
    return 0;
  }

  /** In cluster mode one member of the dispatcher's cluster, which all the peers of this JVM share. */
  static Vertx vertx(JsonObject conf) {
    if (Conf.mode(conf) != Mode.CLUSTER) {
      return Vertx.vertx();
    }
    ClusterConfig cluster = ClusterConfig.from(conf);
    return Vertx.builder().with(ClusterMember.options(cluster)).withClusterManager(ClusterMember.manager(cluster))
        .buildClustered().await();
  }

  /**
   * Deploys {@code count} peers with worker config {@code conf} (mode, workers, dispatcher.url or .name), each
   * with its own worker id; the future completes when all have started (not yet registered).
   */
  public static Future<List<String>> deploy(Vertx vertx, JsonObject conf, int count) {
    List<Future<String>> deployments = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      JsonObject peer = conf.copy().put("worker.id", "peer-" + ProcessHandle.current().pid() + "-" + i);
      deployments.add(vertx.deployVerticle(new RemoteWorkerVerticle(InstantPool.STARTER),
          new DeploymentOptions().setConfig(peer)));
    }
    return Future.all(deployments).map(all -> all.<String>list());
  }
}
