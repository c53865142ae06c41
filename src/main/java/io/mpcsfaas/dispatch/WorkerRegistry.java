package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.task.HeldFunctions;
import io.mpcsfaas.task.TaskOutcome;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The remote workers a dispatcher knows, the room they have and the tasks each is running. Pure bookkeeping,
 * shared by every transport: a worker's room is the tasks it last said it can hold minus those sent
 * and not answered. Until it says, a push worker can hold its slots; a pull worker nothing, or, if its asks
 * carry only a count, the tasks it asked for and has not received. Single-threaded (the dispatcher's context).
 */
final class WorkerRegistry {
  /** One worker as the dispatcher sees it. */
  static final class Worker {
    final String peer;
    final String id;
    final String session;
    final int slots;
    /** The environments it offers: only their tasks go to it. */
    final Set<String> envs;
    final Map<String, Promise<Execution>> running = new LinkedHashMap<>();
    /**
     * The functions sent to this session of a worker that fetches (null for one that does not: it is sent every
     * task's function), to send each once and answer its fetches; a new session starts with none.
     */
    final HeldFunctions<String> sent;
    /** Tasks the worker last said it can hold, running and queued; -1 for a pull worker that never said. */
    int hold;
    /** A pull worker whose asks carry only a count: tasks asked for and not sent. */
    int asked;
    boolean draining;
    long lastSeen;
    long lastAssigned;

    Worker(String peer, String id, String session, int slots, Set<String> envs, boolean fetches, boolean pull,
        long now) {
      this.peer = peer;
      this.id = id;
      this.session = session;
      this.slots = slots;
      this.envs = envs;
      this.sent = fetches ? new HeldFunctions<>(MAX_SENT_FUNCTIONS, MAX_SENT_BYTES) : null;
      this.hold = pull ? -1 : slots;
      this.lastSeen = now;
    }
  }

  /** What a dispatcher records as sent to one worker: within what the worker holds (RemoteWorkerVerticle). */
  private static final int MAX_SENT_FUNCTIONS = 256;
  private static final long MAX_SENT_BYTES = 64L << 20;

  private final boolean pull;
  private final Map<String, Worker> byPeer = new HashMap<>();
  /** The environments offered: the default and the workers', kept as workers come and go (read on every fill). */
  private Set<String> envs = Set.of(Environments.DEFAULT);
  private long assignments;

  WorkerRegistry(boolean pull) {
    this.pull = pull;
  }

  /**
   * Adds a worker. A repeated registration of the same session (the worker sends it until welcomed) changes
   * nothing. A new session means the worker reconnected, and may have lost tasks we sent or results it sent
   * on the old connection: what we thought it was running runs again (a late result is then ignored, the
   * first stored result being final), so no task waits forever for a message that was dropped.
   */
  Worker register(String peer, String id, String session, int slots, Set<String> envs, boolean fetches, long now) {
    Worker old = byPeer.get(peer);
    if (old != null && old.session.equals(session)) {
      old.lastSeen = now;
      return old;
    }
    if (old != null) {
      remove(old, "reconnected");
    }
    Worker worker = new Worker(peer, id, session, slots, envs, fetches, pull, now);
    byPeer.put(peer, worker);
    gatherEnvs();
    return worker;
  }

  Worker byPeer(String peer) {
    return byPeer.get(peer);
  }

  Collection<Worker> workers() {
    return byPeer.values();
  }

  /** Tasks the worker can be sent now. */
  int room(Worker worker) {
    if (worker.draining) {
      return 0;
    }
    return Math.max(0, signedRoom(worker));
  }

  /** Tasks the worker can still be sent; below zero when it holds more than it now can. */
  private static int signedRoom(Worker worker) {
    return worker.hold >= 0 ? worker.hold - worker.running.size() : worker.asked;
  }

  int room() {
    int total = 0;
    for (Worker worker : byPeer.values()) {
      total += room(worker);
    }
    return total;
  }

  /**
   * Tasks of {@code env} that can be sent now: the room of the workers that offer it. A worker's room is shared
   * by its environments (it says how many tasks it can hold in all).
   */
  int room(String env) {
    int total = 0;
    for (Worker worker : byPeer.values()) {
      if (worker.envs.contains(env)) {
        total += room(worker);
      }
    }
    return total;
  }

  /** The environments the workers offer, and the default. */
  Set<String> envs() {
    return envs;
  }

  private void gatherEnvs() {
    Set<String> offered = new LinkedHashSet<>();
    offered.add(Environments.DEFAULT);
    byPeer.values().forEach(worker -> offered.addAll(worker.envs));
    envs = Collections.unmodifiableSet(offered);
  }

  /**
   * The worker to send a task to: the one with the most room, ties going to the one idle longest. A
   * push worker's room may have shrunk while the task was being claimed; the task then still goes to the
   * least overcommitted worker, which queues it. Only workers that offer {@code env} count. Null if no worker
   * can take it.
   */
  Worker choose(String env) {
    Worker best = null;
    int bestRoom = 0;
    for (Worker worker : byPeer.values()) {
      if (worker.draining || (worker.hold < 0 && worker.asked <= 0) || !worker.envs.contains(env)) {
        continue;
      }
      int room = signedRoom(worker);
      if (best == null || room > bestRoom || (room == bestRoom && worker.lastAssigned < best.lastAssigned)) {
        best = worker;
        bestRoom = room;
      }
    }
    return best;
  }

  void assign(Worker worker, String taskId, Promise<Execution> promise) {
    worker.running.put(taskId, promise);
    worker.lastAssigned = ++assignments;
    if (worker.hold < 0) {
      worker.asked--;
    }
  }

  /** Completes a task reported by its worker; false when that worker was not running it (a stray result). */
  boolean complete(Worker worker, String taskId, TaskOutcome outcome) {
    Promise<Execution> promise = worker.running.remove(taskId);
    if (promise == null) {
      return false;
    }
    promise.tryComplete(new Execution(worker.id, outcome));
    return true;
  }

  /** The worker running the task; null if none is. */
  Worker holding(String taskId) {
    for (Worker worker : byPeer.values()) {
      if (worker.running.containsKey(taskId)) {
        return worker;
      }
    }
    return null;
  }

  /** Workers not heard from since {@code deadline}. */
  List<Worker> silentSince(long deadline) {
    List<Worker> silent = new ArrayList<>();
    for (Worker worker : byPeer.values()) {
      if (worker.lastSeen < deadline) {
        silent.add(worker);
      }
    }
    return silent;
  }

  /** Forgets a worker; its running tasks fail with {@link WorkerLostException} to run again elsewhere. */
  void remove(Worker worker, String why) {
    byPeer.remove(worker.peer);
    gatherEnvs();
    worker.running.values().forEach(p -> p.tryFail(new WorkerLostException("worker " + worker.id + " " + why)));
    worker.running.clear();
  }
}
