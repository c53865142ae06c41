package io.mpcsfaas.config;

import java.util.List;
import java.util.Set;

/**
 * One configuration key: its default, the flags and environment variable that set it, what it means and
 * which commands read it. {@link #ALL} is the single place where every default and flag is written down:
 * the typed configs ({@link Conf}) take their defaults from it, the command line and {@code --help} their
 * flags. A key's dots are the nesting of the JSON config ({@code "api.port"} is {@code {"api": {"port": ..}}}).
 */
public record Setting(String key, Object defaultValue, List<String> flags, String env, String help, Set<String> commands) {
  private static final Set<String> SERVERS = Set.of("up", "api", "dispatcher");
  private static final Set<String> API = Set.of("up", "api");
  private static final Set<String> DISPATCH = Set.of("up", "dispatcher");
  private static final Set<String> RUNS_PYTHON = Set.of("up", "dispatcher", "pull-worker", "push-worker",
      "cluster-worker");
  private static final Set<String> WORKERS = Set.of("up", "pull-worker", "push-worker", "cluster-worker");
  private static final Set<String> REMOTE = Set.of("up", "dispatcher", "pull-worker", "push-worker", "cluster-worker");
  private static final Set<String> CLUSTER = Set.of("up", "dispatcher", "cluster-worker");

  public static final List<Setting> ALL = List.of(
      new Setting("mode", "local", List.of("-m", "-mode", "--mode"), null,
          "dispatch mode: local, pull, push or cluster", DISPATCH),
      new Setting("api.port", 8000, List.of("--port"), null, "HTTP port of the API (-p for up and api)", API),
      new Setting("api.host", "0.0.0.0", List.of("--host"), null, "interface the API listens on", API),
      new Setting("api.body_limit", ApiConfig.DEFAULT_BODY_LIMIT, List.of("--body-limit"), null,
          "largest request body the API accepts, in bytes (at most " + (ApiConfig.MAX_BODY_LIMIT >> 20)
              + " MiB; docs/payloads.md)", API),
      new Setting("api.key", "", List.of("--api-key"), "FAAS_API_KEY",
          "clients must send Authorization: Bearer KEY (empty: no key); an admin key of no tenant", API),
      new Setting("api.keys_file", "", List.of("--api-keys"), null,
          "JSON file of tenants' keys, re-read on SIGHUP (docs/tenants.md; empty: none)", API),
      new Setting("api.tls_cert", "", List.of("--tls-cert"), null,
          "PEM certificate (chain) of the API; with --tls-key the port speaks HTTPS only, HTTP/2 through ALPN "
              + "(empty: plain HTTP)", API),
      new Setting("api.tls_key", "", List.of("--tls-key"), null, "PEM private key (unencrypted) of --tls-cert", API),
      new Setting("redis.url", "redis://127.0.0.1:6379", List.of("--redis"), "REDIS_URL",
          "Redis connection string (redis://[:password@]host:port[/db], rediss:// for TLS)", SERVERS),
      new Setting("redis.pool_size", 16, List.of("--redis-pool"), null,
          "connections each API or dispatcher keeps to Redis", SERVERS),
      new Setting("redis.prefix", "faas:", List.of("--prefix"), null, "prefix of every Redis key", SERVERS),
      new Setting("redis.sentinels", "", List.of("--redis-sentinels"), null,
          "Redis Sentinels, HOST:PORT separated by commas: Redis is the master they name (--redis-master), "
              + "found again after a failover, and --redis is not used (empty: none; docs/sentinel.md)", SERVERS),
      new Setting("redis.master", "mymaster", List.of("--redis-master"), null,
          "name of the master the Sentinels watch", SERVERS),
      new Setting("redis.min_replicas", 0, List.of("--redis-min-replicas"), null,
          "replicas that must hold a submit, registration or result before it is answered or announced "
              + "(Redis WAIT; 0: do not wait)", SERVERS),
      new Setting("redis.wait_ms", 1000, List.of("--redis-wait-ms"), null,
          "how long to wait for --redis-min-replicas; past it the API answers 503 and a result is stored again",
          SERVERS),
      new Setting("redis.data_dir", "data/redis", List.of("--data-dir"), "FAAS_DATA_DIR",
          "folder of the Redis that up starts when none answers", Set.of("up")),
      new Setting("workers", Runtime.getRuntime().availableProcessors(), List.of("-w", "--workers"), null,
          "interpreter processes (of the local dispatcher, or of up's embedded worker)", DISPATCH),
      new Setting("dispatcher.port", 5555, List.of("--dispatcher-port"), null,
          "ZeroMQ port for workers (-p for dispatcher)", Set.of("up", "dispatcher")),
      new Setting("dispatcher.bind", "*", List.of("--bind"), null,
          "interface the dispatcher's ZeroMQ socket binds", Set.of("up", "dispatcher")),
      new Setting("dispatcher.name", "dispatcher", List.of("--name"), null,
          "dispatcher name: its consumer in Redis (give each dispatcher its own); a cluster worker names the "
              + "dispatchers it may follow, separated by commas, its first choice first",
          Set.of("up", "dispatcher", "cluster-worker")),
      new Setting("dispatcher.max_attempts", 3, List.of("--max-attempts"), null,
          "times a task may lose its worker before it fails", DISPATCH),
      new Setting("dispatcher.takeover_ms", 15_000, List.of("--takeover-ms"), null,
          "idle time after which another dispatcher's tasks are taken over", DISPATCH),
      new Setting("dispatcher.prefetch", 32, List.of("--prefetch"), null,
          "tasks a dispatcher claims ahead of free slots, so that a slot never waits for Redis", DISPATCH),
      new Setting("task.timeout", 300, List.of("--task-timeout"), null,
          "default per-task timeout in seconds", RUNS_PYTHON),
      new Setting("task.result_ttl", 86_400, List.of("--result-ttl"), null,
          "seconds a finished task and its result, or a deleted function, stay in Redis (0: forever)", SERVERS),
      new Setting("worker.lookahead_ms", 5, List.of("--lookahead-ms"), null,
          "a busy interpreter is handed more tasks while those it holds will likely end within this time "
              + "(0: one task per interpreter)", RUNS_PYTHON),
      new Setting("worker.memory_limit_mb", 2048, List.of("--memory-limit-mb"), null,
          "address-space cap per interpreter in MiB (0: none)", RUNS_PYTHON),
      new Setting("worker.max_output_kb", 64, List.of("--max-output-kb"), null,
          "KiB of each of a task's stdout and stderr kept (the last ones)", RUNS_PYTHON),
      new Setting("python", "", List.of("--python"), "FAAS_PYTHON",
          "Python 3 that can import dill (empty: python3, then /usr/bin/python3)", RUNS_PYTHON),
      new Setting("environments", List.of(), List.of("--env"), null,
          "a named environment, NAME=PYTHON (repeatable): functions registered with that env run only on its "
              + "interpreters (docs/environments.md; --python is the environment default)", RUNS_PYTHON),
      new Setting("python_path", "", List.of("--python-path"), null,
          "folders the interpreters put first on sys.path, separated by ':', so that functions pickled by "
              + "reference find their modules (empty: none)", RUNS_PYTHON),
      new Setting("worker.token", "", List.of("--worker-token"), "FAAS_WORKER_TOKEN",
          "shared secret workers present to the dispatcher (empty: none)", REMOTE),
      new Setting("curve.secret_key", "", List.of("--curve-secret-key"), null,
          "file with this process's CURVE secret key (./faas keygen): a pull/push dispatcher's turns on "
              + "CURVE encryption for its workers, a worker's is its identity (empty: plain ZeroMQ)",
          Set.of("up", "dispatcher", "pull-worker", "push-worker")),
      new Setting("curve.authorized_keys", "", List.of("--curve-authorized-keys"), null,
          "CURVE dispatcher: file of worker public keys, one a line, or a folder of .pub files; "
              + "only these workers connect", DISPATCH),
      new Setting("curve.server_key", "", List.of("--curve-server-key"), null,
          "file with the dispatcher's CURVE public key: the worker connects with CURVE (empty: plain)",
          Set.of("pull-worker", "push-worker")),
      new Setting("dispatcher.url", "tcp://127.0.0.1:5555", List.of(), null,
          "pull/push worker: the dispatcher's address (the second argument)", Set.of()),
      new Setting("worker.id", "", List.of("--worker-id"), null, "worker name (empty: pid@host-random)", WORKERS),
      new Setting("heartbeat.interval_ms", 1000, List.of("--heartbeat-ms"), null,
          "heartbeat period, both ways", REMOTE),
      new Setting("cluster.host", "127.0.0.1", List.of("--cluster-host"), null,
          "cluster mode: this node's address for Hazelcast and the event bus", CLUSTER),
      new Setting("cluster.port", 5701, List.of("--cluster-port"), null,
          "cluster mode: first Hazelcast port to try (the next ones if taken)", CLUSTER),
      new Setting("cluster.join", "127.0.0.1", List.of("--join"), null,
          "cluster mode: members to join, host[:port] separated by commas", CLUSTER),
      new Setting("cluster.member_timeout_ms", 15_000, List.of("--member-timeout-ms"), null,
          "cluster mode: heartbeat silence after which Hazelcast drops a member (a frozen process or a lost "
              + "machine; a killed process's closed connections drop it sooner)", CLUSTER),
      new Setting("cluster.tls_cert", "", List.of("--cluster-tls-cert"), null,
          "cluster mode: PEM certificate of this member; with --cluster-tls-key and --cluster-tls-ca the "
              + "event bus speaks TLS and accepts only members whose certificate the CA signed (empty: plain)",
          CLUSTER),
      new Setting("cluster.tls_key", "", List.of("--cluster-tls-key"), null,
          "cluster mode: PEM private key of --cluster-tls-cert", CLUSTER),
      new Setting("cluster.tls_ca", "", List.of("--cluster-tls-ca"), null,
          "cluster mode: PEM certificate of the CA that signs every member's certificate", CLUSTER),
      new Setting("heartbeat.timeout_ms", 3000, List.of("--heartbeat-timeout-ms"), null,
          "silence after which a peer counts as dead", REMOTE));

  /** The setting of {@code key}; fails for a key that is not in the table (a typo in the code). */
  public static Setting of(String key) {
    for (Setting setting : ALL) {
      if (setting.key.equals(key)) {
        return setting;
      }
    }
    throw new IllegalArgumentException("no setting " + key);
  }
}
