package io.mpcsfaas.worker;

import io.mpcsfaas.config.ClusterConfig;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.CurveConfig;
import io.mpcsfaas.config.LinkConfig;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.task.HeldFunctions;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.transport.CurveClient;
import io.mpcsfaas.transport.CurveKeys;
import io.mpcsfaas.transport.EventBusLink;
import io.mpcsfaas.transport.MessageLink;
import io.mpcsfaas.transport.Protocol;
import io.mpcsfaas.transport.ZmqEndpoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pull, push or cluster worker: runs the tasks a dispatcher sends (over ZeroMQ, or over the clustered
 * event bus in cluster mode) on its own interpreter pool, and needs no Redis. It registers again and again
 * until welcomed (so it may start before the dispatcher), heartbeats, and reconnects when the dispatcher
 * falls silent. A cluster worker in a JVM of its own whose dispatcher is gone from the cluster follows the
 * next of the dispatchers it lists that is there ({@link DispatcherChoice}), and when none is, leaves the
 * cluster and joins it again. It takes as many tasks as its pool can run without making them wait: one per idle
 * interpreter, and more behind tasks that will end within the lookahead. It tells the dispatcher how many
 * tasks it wants to hold in all (in an {@code ask} in pull mode, a heartbeat in push mode), and the
 * dispatcher counts what it sent: a number that is absolute, so a lost message costs nothing.
 * Stopping it (SIGTERM) first finishes the tasks it holds and sends their results.
 */
public final class RemoteWorkerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteWorkerVerticle.class);
  private static final long DRAIN_LIMIT_MILLIS = 60_000;
  /** The functions a worker holds, at least what a dispatcher records as sent to it (WorkerRegistry). */
  private static final int MAX_FUNCTIONS = 256;
  private static final long MAX_FUNCTION_BYTES = 64L << 20;

  private enum State { REGISTERING, ACTIVE, DRAINING }

  private final TaskPool.Starter pools;
  private String id;
  private Mode mode;
  private String dispatcherUrl;
  private DispatcherChoice dispatchers;
  /** The dispatcher a cluster worker talks to now, one of {@link #dispatchers}. */
  private String dispatcherName;
  private String session;
  private String token;
  private int slots;
  private long heartbeatMillis;
  private long timeoutMillis;
  private TaskPool pool;
  private MessageLink endpoint;
  /** A new link is being opened, or checked for: joining a cluster takes longer than a heartbeat interval. */
  private boolean connecting;
  /** This link's registering has been found unanswered by a dispatcher that is there, and said so. */
  private boolean warnedUnwelcome;
  private State state = State.REGISTERING;
  private long lastHeard;
  /** Tasks in hand: running or queued in the pool, or waiting for their function. */
  private int running;
  /** The functions the dispatcher sent: it sends each once per session, and a task after that without it. */
  private final HeldFunctions<String> functions = new HeldFunctions<>(MAX_FUNCTIONS, MAX_FUNCTION_BYTES);
  /** Tasks that came without a function this worker let go, by function id, until the dispatcher sends it. */
  private final Map<String, List<TaskSpec>> fetching = new HashMap<>();
  /** What the dispatcher takes this worker to want to hold: what it last said, or the default. */
  private int reportedHold;
  private boolean reportScheduled;
  private long timer;
  private Promise<Void> drained;

  /** A worker whose tasks run on the interpreters of its environments. */
  public RemoteWorkerVerticle() {
    this(EnvironmentPools.STARTER);
  }

  /** A worker whose tasks run on the pool {@code pools} makes (simulated peers answer at once). */
  public RemoteWorkerVerticle(TaskPool.Starter pools) {
    this.pools = pools;
  }

  @Override
  public Future<?> start() {
    JsonObject conf = config();
    LinkConfig link = LinkConfig.from(conf);
    mode = link.mode();
    dispatchers = new DispatcherChoice(link.dispatcherNames());
    dispatcherName = dispatchers.first();
    dispatcherUrl = mode == Mode.CLUSTER ? EventBusLink.dispatcherAddress(dispatcherName) : link.dispatcherUrl();
    token = link.token();
    slots = Conf.integer(conf, "workers");
    heartbeatMillis = link.heartbeatMillis();
    timeoutMillis = link.heartbeatTimeoutMillis();
    String configuredId = Conf.string(conf, "worker.id");
    id = configuredId.isBlank()
        ? ManagementFactory.getRuntimeMXBean().getName() + "-" + UUID.randomUUID().toString().substring(0, 8)
        : configuredId;
    return pools.start(vertx, conf).compose(p -> {
      pool = p;
      slots = pool.size();
      pool.onRoom(this::scheduleReport);
      pool.onOutput((taskId, output) -> endpoint.send(Protocol.output(taskId, output)));
      return connect();
    }).onSuccess(v -> {
      timer = vertx.setPeriodic(heartbeatMillis, t -> tick());
      LOG.info("{} worker {} with {} interpreters per environment {}, dispatcher {}", mode.word(), id, slots,
          pool.names(), dispatcherUrl);
    });
  }

  /** Finishes the tasks in hand (sending their results), says goodbye, then stops the interpreters. */
  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    state = State.DRAINING;
    drained = Promise.promise();
    if (running == 0) {
      drained.tryComplete();
    } else {
      LOG.info("finishing {} tasks before stopping", running);
      endpoint.send(Protocol.message(Protocol.DRAIN));
    }
    return drained.future()
        .timeout(DRAIN_LIMIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .recover(err -> Future.succeededFuture())
        .compose(v -> {
          endpoint.send(Protocol.message(Protocol.BYE));
          return vertx.timer(200); // lets JeroMQ send the last messages before the socket closes
        })
        .compose(v -> vertx.executeBlocking(() -> {
          endpoint.close();
          return null;
        }))
        .eventually(() -> pool.close());
  }

  private Future<Void> connect() {
    state = State.REGISTERING;
    newSession();
    Context context = vertx.getOrCreateContext();
    MessageLink.Handler handler = (peer, message) -> onMessage(message);
    Future<MessageLink> link;
    if (mode != Mode.CLUSTER) {
      link = vertx.executeBlocking(() -> ZmqEndpoint.connect(context, dispatcherUrl, id, curve(), handler));
    } else if (vertx.isClustered()) {
      link = EventBusLink.worker(vertx, dispatcherName, id, handler); // up's own worker, beside its dispatcher
    } else {
      link = EventBusLink.join(context, ClusterConfig.from(config()), dispatcherName, id, handler);
    }
    return link
        .map(e -> {
          endpoint = e;
          lastHeard = System.currentTimeMillis();
          register();
          return null;
        });
  }

  /**
   * A new connection, or another dispatcher: it forgets what it sent the old one, and knows nothing this one
   * holds.
   */
  private void newSession() {
    warnedUnwelcome = false;
    dropFetching();
    reportedHold = holdBeforeReport();
    session = UUID.randomUUID().toString();
  }

  /**
   * This worker's CURVE keys, read again for each connection (null: plain). up's own worker reaches its
   * dispatcher in-process, where ZeroMQ has no handshake and the keys are the dispatcher's.
   */
  private CurveClient curve() {
    return dispatcherUrl.startsWith("inproc:") ? null : CurveKeys.client(CurveConfig.from(config()));
  }

  private void register() {
    endpoint.send(Protocol.register(id, session, mode.word(), slots, running, token, pool.names()));
  }

  private void onMessage(JsonObject message) {
    if (!Protocol.compatible(message)) {
      return;
    }
    lastHeard = System.currentTimeMillis();
    switch (message.getString("type")) {
      case Protocol.WELCOME -> {
        if (state == State.REGISTERING) {
          state = State.ACTIVE;
          LOG.info("registered with dispatcher {}", dispatcherUrl);
          report();
        }
      }
      case Protocol.TASK -> take(Protocol.taskSpec(message));
      case Protocol.FUNCTION -> {
        if (message.getValue("fid") instanceof String fid) {
          fetched(fid, message.getValue("fn") instanceof String fn ? fn : null);
        }
      }
      case Protocol.CANCEL -> {
        if (message.getValue("task") instanceof String taskId && !cancelFetching(taskId)) {
          pool.cancel(taskId);
        }
      }
      case Protocol.UNKNOWN -> {
        if (state == State.ACTIVE) {
          LOG.info("dispatcher {} does not know us (it restarted?); registering again", dispatcherUrl);
          state = State.REGISTERING;
          reportedHold = holdBeforeReport();
          dropFetching();
          register();
        }
      }
      case Protocol.REFUSED -> LOG.error("dispatcher {} refused this worker: {}", dispatcherUrl,
          message.getString("reason"));
      default -> {
        // heartbeats only refresh lastHeard
      }
    }
  }

  /**
   * Takes a task in hand: runs it with the function it carries (held from now on), or with the one held; when
   * this worker let that go, asks the dispatcher for it once and runs the task when it comes.
   */
  private void take(TaskSpec task) {
    running++;
    String fid = task.functionId();
    String payload = task.functionPayload();
    if (payload != null && !payload.isEmpty()) {
      functions.put(fid, payload, payload.length());
    } else if (payload == null) {
      payload = functions.get(fid);
    }
    if (payload != null) {
      run(task.withFunction(payload));
      return;
    }
    List<TaskSpec> waiting = fetching.computeIfAbsent(fid, f -> new ArrayList<>());
    if (waiting.isEmpty()) {
      endpoint.send(Protocol.fetch(fid));
    }
    waiting.add(task);
  }

  /** The function the dispatcher sent in answer to a fetch: the tasks waiting for it run; none if it had none. */
  private void fetched(String fid, String payload) {
    List<TaskSpec> waiting = fetching.remove(fid);
    if (waiting == null) {
      return;
    }
    if (payload != null && !payload.isEmpty()) {
      functions.put(fid, payload, payload.length());
    }
    for (TaskSpec task : waiting) {
      if (payload == null) {
        finish(task, TaskOutcome.platformFailure("RuntimeError", "function " + fid + " was not sent with this "
            + "task, and its dispatcher no longer had it to send"));
      } else {
        run(task.withFunction(payload));
      }
    }
  }

  /**
   * Drops the tasks waiting for their function: the dispatcher no longer knows this worker's session (a new one,
   * or it forgot this one), so it answers no fetch and runs every task it had sent here again.
   */
  private void dropFetching() {
    fetching.values().forEach(tasks -> running -= tasks.size());
    fetching.clear();
  }

  /** Cancels a task waiting for its function, if it is one (true if so). */
  private boolean cancelFetching(String taskId) {
    for (List<TaskSpec> waiting : fetching.values()) {
      for (TaskSpec task : waiting) {
        if (task.taskId().equals(taskId)) {
          waiting.remove(task);
          finish(task, TaskOutcome.CANCELLED);
          return true;
        }
      }
    }
    return false;
  }

  private void run(TaskSpec task) {
    pool.run(task).onComplete(ar -> finish(task, ar.result()));
    scheduleReport(); // a task of known, short length leaves room behind it
  }

  /** Sends a task's outcome; the task is out of hand. */
  private void finish(TaskSpec task, TaskOutcome outcome) {
    running--;
    endpoint.send(Protocol.result(task.taskId(), outcome));
    if (state == State.DRAINING) {
      if (running == 0 && drained != null) {
        drained.tryComplete();
      }
    } else {
      scheduleReport();
    }
  }

  /** Reports the pool's room once for everything that happened in this turn of the event loop. */
  private void scheduleReport() {
    if (!reportScheduled) {
      reportScheduled = true;
      context.runOnContext(v -> {
        reportScheduled = false;
        report();
      });
    }
  }

  /**
   * Tells the dispatcher how many tasks this worker wants to hold (running, and queued in its pool), when
   * that changed by more than a little: the dispatcher keeps sending while it has fewer out with us.
   */
  private void report() {
    if (state != State.ACTIVE) {
      return;
    }
    int room = pool.room();
    int hold = running + room;
    if (Math.abs(hold - reportedHold) > reportedHold / 8) {
      reportedHold = hold;
      endpoint.send(mode == Mode.PULL ? Protocol.ask(room, hold) : Protocol.heartbeat(running, hold));
    }
  }

  /**
   * Closes the link and opens a new one. Over the event bus of a worker's own cluster member, that leaves
   * the cluster and joins it again through the join list: a restarted dispatcher forms a cluster of its own,
   * and this is how its workers reach it within seconds.
   */
  private void reconnect() {
    connecting = true;
    MessageLink old = endpoint;
    vertx.executeBlocking(() -> {
      old.close();
      return null;
    }).compose(v -> connect()).onComplete(ar -> {
      connecting = false;
      lastHeard = System.currentTimeMillis(); // a failed attempt is made again after another timeout
      if (ar.failed()) {
        LOG.warn("could not reconnect to dispatcher {}: {}", dispatcherUrl, ar.cause().getMessage());
      }
    });
  }

  /**
   * Registers with another dispatcher in the same cluster, its own being gone. The results of tasks in hand
   * reach one that never sent them and are ignored: the dead dispatcher's claims, taken over from Redis, run
   * those tasks again.
   */
  private void follow(String next) {
    LOG.warn("dispatcher {} is gone from the cluster; following dispatcher {}", dispatcherName, next);
    dispatcherName = next;
    dispatcherUrl = EventBusLink.dispatcherAddress(next);
    endpoint.follow(next);
    state = State.REGISTERING;
    newSession();
    lastHeard = System.currentTimeMillis();
    register();
  }

  /** What a dispatcher assumes of a worker that has not said how many tasks it can hold. */
  private int holdBeforeReport() {
    return mode == Mode.PULL ? 0 : slots;
  }

  private void tick() {
    if (connecting) {
      return;
    }
    long silence = System.currentTimeMillis() - lastHeard;
    if (silence > timeoutMillis) {
      connecting = true;
      endpoint.listening(dispatchers.names()).onComplete(listening -> {
        connecting = false;
        String next = listening.succeeded() ? dispatchers.next(dispatcherName, listening.result()) : null;
        if (next == null) {
          LOG.warn("dispatcher {} silent for {} ms; reconnecting", dispatcherUrl, silence);
          reconnect();
        } else if (next.equals(dispatcherName)) {
          lastHeard = System.currentTimeMillis(); // there but slow: a new link would find the same
          if (state == State.REGISTERING && !warnedUnwelcome) {
            warnedUnwelcome = true; // once per link: it keeps registering every heartbeat
            LOG.warn("dispatcher {} is in the cluster but has not welcomed this worker for {} ms (with cluster "
                + "TLS: is this member's certificate signed by the cluster's CA?)", dispatcherUrl, silence);
          }
        } else {
          follow(next);
        }
      });
      return;
    }
    if (state == State.REGISTERING) {
      register();
    } else {
      reportedHold = running + pool.room();
      endpoint.send(Protocol.heartbeat(running, reportedHold));
    }
  }
}
