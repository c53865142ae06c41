package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.CurveConfig;
import io.mpcsfaas.config.DispatcherConfig;
import io.mpcsfaas.config.LinkConfig;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.transport.CurveKeys;
import io.mpcsfaas.transport.CurveServer;
import io.mpcsfaas.transport.EventBusLink;
import io.mpcsfaas.transport.MessageLink;
import io.mpcsfaas.transport.Protocol;
import io.mpcsfaas.transport.ZmqEndpoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The distributed modes, one scheduler over two transports. Pull and push: workers connect to the
 * dispatcher's ZeroMQ ROUTER socket; cluster: workers in other JVMs of a Vert.x cluster talk to it over the
 * event bus. In push and cluster mode the dispatcher sends each task to the registered worker with the most
 * free slots (the tasks it last said it can hold, minus those sent and not answered); in pull mode only to
 * workers that asked for tasks (the same count, from their asks). Heartbeats go both ways; a worker silent
 * past the timeout is dropped and its tasks run again elsewhere.
 */
final class RemoteBackend implements ExecutionBackend {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteBackend.class);

  private final Vertx vertx;
  private final Mode mode;
  private final String token;
  private final long heartbeatMillis;
  private final long timeoutMillis;
  private final WorkerRegistry registry;
  private MessageLink endpoint;
  private long timer;
  private Runnable roomListener = () -> {};
  private BiConsumer<String, TaskOutput> outputListener = (taskId, output) -> {};

  private RemoteBackend(Vertx vertx, LinkConfig link) {
    this.vertx = vertx;
    this.mode = link.mode();
    this.token = link.token();
    this.heartbeatMillis = link.heartbeatMillis();
    this.timeoutMillis = link.heartbeatTimeoutMillis();
    this.registry = new WorkerRegistry(mode == Mode.PULL);
  }

  /** Opens the workers' link and starts the heartbeat; call on the dispatcher's context. */
  static Future<ExecutionBackend> start(Vertx vertx, LinkConfig link, DispatcherConfig conf, CurveConfig curve) {
    RemoteBackend backend = new RemoteBackend(vertx, link);
    Context context = vertx.getOrCreateContext();
    String where;
    Future<MessageLink> opened;
    if (backend.mode == Mode.CLUSTER) {
      where = "the event bus at " + EventBusLink.dispatcherAddress(conf.name());
      opened = EventBusLink.dispatcher(vertx, conf.name(), backend::onMessage);
    } else {
      where = "tcp://" + conf.bind() + ":" + conf.port();
      // Workers in this JVM (./faas up) connect in-process, without TCP and JeroMQ's I/O thread.
      List<String> addresses = List.of(where, Protocol.inprocAddress(conf.name()));
      // Reading keys and binding touch files and sockets: off the event loop.
      opened = vertx.executeBlocking(() -> {
        CurveServer server = CurveKeys.server(curve);
        ZmqEndpoint endpoint = ZmqEndpoint.bind(context, addresses, server, backend::onMessage);
        if (server == null) {
          LOG.info("workers connect without encryption (plain ZeroMQ: for loopback or a trusted network)");
        } else {
          LOG.info("workers connect with CURVE to public key {}, with one of {} authorized keys",
              CurveKeys.publicOf(server.secretKey()), server.authorizedKeys().size());
        }
        return endpoint;
      });
    }
    return opened.map(endpoint -> {
      backend.endpoint = endpoint;
      backend.timer = vertx.setPeriodic(backend.heartbeatMillis, id -> backend.beat());
      LOG.info("{} dispatcher listening for workers on {}", backend.mode.word(), where);
      return backend;
    });
  }

  @Override
  public int room() {
    return registry.room();
  }

  @Override
  public boolean hasWorkers() {
    return !registry.workers().isEmpty();
  }

  @Override
  public int room(String env) {
    return registry.room(env);
  }

  @Override
  public Set<String> envs() {
    return registry.envs();
  }

  @Override
  public void onRoom(Runnable listener) {
    this.roomListener = listener;
  }

  @Override
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    this.outputListener = listener;
  }

  @Override
  public Future<Execution> run(TaskSpec task) {
    WorkerRegistry.Worker worker = registry.choose(task.env());
    if (worker == null) {
      return Future.failedFuture(new WorkerLostException("no worker of environment " + task.env() + " can take it"));
    }
    Promise<Execution> promise = Promise.promise();
    registry.assign(worker, task.taskId(), promise);
    endpoint.send(worker.peer, Protocol.task(task, withFunction(worker, task)));
    return promise.future();
  }

  /**
   * Whether the task's message carries its function: always to a worker that does not fetch; else only the
   * first time for this session (or again once its record let the function go). An empty payload (the
   * function was deleted) is sent, never recorded.
   */
  private static boolean withFunction(WorkerRegistry.Worker worker, TaskSpec task) {
    if (worker.sent == null || task.functionPayload().isEmpty()) {
      return true;
    }
    if (worker.sent.contains(task.functionId())) {
      return false;
    }
    worker.sent.put(task.functionId(), task.functionPayload(), task.functionPayload().length());
    return true;
  }

  /** Tells the worker running the task to stop it; its result comes back as for any task. */
  @Override
  public void cancel(String taskId) {
    WorkerRegistry.Worker worker = registry.holding(taskId);
    if (worker != null) {
      endpoint.send(worker.peer, Protocol.cancel(taskId));
    }
  }

  @Override
  public JsonArray workers() {
    JsonArray out = new JsonArray();
    registry.workers().forEach(w -> out.add(new JsonObject().put("id", w.id).put("mode", mode.word())
        .put("slots", w.slots).put("busy", w.running.size()).put("last_heartbeat", w.lastSeen / 1000.0)
        .put("envs", new JsonArray(List.copyOf(w.envs)))));
    return out;
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(timer);
    return vertx.executeBlocking(() -> {
      endpoint.close();
      return null;
    });
  }

  private void onMessage(String peer, JsonObject message) {
    if (!Protocol.compatible(message)) {
      return;
    }
    String type = message.getString("type");
    if (type.equals(Protocol.REGISTER)) {
      register(peer, message);
      return;
    }
    WorkerRegistry.Worker worker = registry.byPeer(peer);
    if (worker == null) {
      // A worker we do not know (we restarted, or dropped it as silent) must register again first.
      endpoint.send(peer, Protocol.message(Protocol.UNKNOWN));
      return;
    }
    worker.lastSeen = System.currentTimeMillis();
    switch (type) {
      case Protocol.RESULT -> {
        if (registry.complete(worker, message.getString("task"), Protocol.outcome(message))) {
          roomListener.run();
        }
      }
      case Protocol.OUTPUT -> {
        // Only from the worker running the task: one that lost it (it runs elsewhere now) has nothing to say.
        String taskId = message.getString("task");
        if (taskId != null && worker.running.containsKey(taskId)) {
          outputListener.accept(taskId, Protocol.output(message));
        }
      }
      case Protocol.ASK -> {
        if (!takeHold(worker, message)) {
          worker.asked += Math.max(0, message.getInteger("n", 1));
        }
        roomListener.run();
      }
      case Protocol.HEARTBEAT -> {
        if (takeHold(worker, message)) {
          roomListener.run();
        }
      }
      case Protocol.FETCH -> {
        // The worker let go of a function sent to it; none to answer if this record let it go meanwhile.
        if (worker.sent != null && message.getValue("fid") instanceof String fid) {
          endpoint.send(worker.peer, Protocol.function(fid, worker.sent.get(fid)));
        }
      }
      case Protocol.DRAIN -> worker.draining = true;
      case Protocol.BYE -> {
        registry.remove(worker, "left");
        LOG.info("worker {} left", worker.id);
      }
      default -> {
        // other messages only refresh lastSeen
      }
    }
  }

  /** Takes the number of tasks the worker says it can hold, if the message says it; true if so. */
  private static boolean takeHold(WorkerRegistry.Worker worker, JsonObject message) {
    if (!(message.getValue("hold") instanceof Number hold)) {
      return false;
    }
    worker.hold = Math.max(0, hold.intValue());
    return true;
  }

  private void register(String peer, JsonObject message) {
    if (!token.isEmpty() && !token.equals(message.getString("token"))) {
      LOG.warn("refused a worker from {} with a wrong token", message.getString("worker"));
      endpoint.send(peer, Protocol.refused("wrong worker token"));
      return;
    }
    if (!mode.word().equals(message.getString("mode"))) {
      endpoint.send(peer, Protocol.refused("this dispatcher runs in " + mode.word() + " mode"));
      return;
    }
    if (!(message.getValue("slots") instanceof Number declared)) {
      endpoint.send(peer, Protocol.refused("register needs a number of slots"));
      return;
    }
    int slots = Math.max(1, declared.intValue());
    Set<String> envs = Protocol.envs(message);
    if (envs == null) {
      endpoint.send(peer, Protocol.refused("register names its environments as a list of names"));
      return;
    }
    WorkerRegistry.Worker worker = registry.register(peer, message.getString("worker", peer),
        message.getString("session", ""), slots, envs, Protocol.fetches(message), System.currentTimeMillis());
    endpoint.send(peer, Protocol.welcome(heartbeatMillis, timeoutMillis));
    LOG.info("worker {} registered with {} slots, environments {}", worker.id, slots, envs);
    roomListener.run();
  }

  private void beat() {
    long now = System.currentTimeMillis();
    for (WorkerRegistry.Worker silent : registry.silentSince(now - timeoutMillis)) {
      LOG.warn("worker {} silent for {} ms; running its {} tasks elsewhere", silent.id, now - silent.lastSeen,
          silent.running.size());
      registry.remove(silent, "stopped answering");
    }
    JsonObject heartbeat = Protocol.message(Protocol.HEARTBEAT);
    registry.workers().forEach(w -> endpoint.send(w.peer, heartbeat));
  }
}
