package io.mpcsfaas.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a command line into the platform's config: defaults, then {@code --conf FILE}, then environment
 * variables, then flags. Keys are flat ({@code "api.port"}) and the same in files and flags.
 */
final class Options {
  /** Flag spellings (including the original MPCSFaaS ones) and the config key each sets. */
  private static final Map<String, String> FLAGS = Map.ofEntries(
      Map.entry("--port", "api.port"),
      Map.entry("--host", "api.host"),
      Map.entry("-m", "mode"), Map.entry("-mode", "mode"), Map.entry("--mode", "mode"),
      Map.entry("-w", "workers"), Map.entry("--workers", "workers"),
      Map.entry("--redis", "redis.url"),
      Map.entry("--prefix", "redis.prefix"),
      Map.entry("--name", "dispatcher.name"),
      Map.entry("--max-attempts", "dispatcher.max_attempts"),
      Map.entry("--takeover-ms", "dispatcher.takeover_ms"),
      Map.entry("--task-timeout", "task.timeout"),
      Map.entry("--memory-limit-mb", "worker.memory_limit_mb"),
      Map.entry("--python", "python"),
      Map.entry("--body-limit", "api.body_limit"),
      Map.entry("--data-dir", "redis.data_dir"),
      Map.entry("--dispatcher-port", "dispatcher.port"),
      Map.entry("--bind", "dispatcher.bind"),
      Map.entry("--worker-token", "worker.token"),
      Map.entry("--api-key", "api.key"),
      Map.entry("--worker-id", "worker.id"),
      Map.entry("--heartbeat-ms", "heartbeat.interval_ms"),
      Map.entry("--heartbeat-timeout-ms", "heartbeat.timeout_ms"));
  /** Environment variables and the config key each sets. */
  private static final Map<String, String> ENV = Map.of(
      "REDIS_URL", "redis.url",
      "FAAS_WORKER_TOKEN", "worker.token",
      "FAAS_API_KEY", "api.key",
      "FAAS_PYTHON", "python",
      "FAAS_DATA_DIR", "redis.data_dir");

  final JsonObject config;
  final List<String> positional;

  private Options(JsonObject config, List<String> positional) {
    this.config = config;
    this.positional = positional;
  }

  static JsonObject defaults() {
    return new JsonObject()
        .put("mode", "local")
        .put("api.port", 8000)
        .put("api.host", "0.0.0.0")
        .put("api.body_limit", 16L << 20)
        .put("redis.url", "redis://127.0.0.1:6379")
        .put("redis.prefix", "faas:")
        .put("dispatcher.name", "dispatcher")
        .put("dispatcher.max_attempts", 3)
        .put("dispatcher.takeover_ms", 15_000)
        .put("dispatcher.port", 5555)
        .put("dispatcher.bind", "*")
        .put("heartbeat.interval_ms", 1000)
        .put("heartbeat.timeout_ms", 3000)
        .put("workers", Runtime.getRuntime().availableProcessors())
        .put("worker.depth", 2)
        .put("task.timeout", 300)
        .put("worker.memory_limit_mb", 2048);
  }

  /** Parses {@code args}; {@code -p} means {@code portKey} (the API port, or the dispatcher's ZeroMQ port). */
  static Options parse(String[] args, String portKey) {
    JsonObject config = defaults();
    List<String> positional = new ArrayList<>();
    JsonObject flags = new JsonObject();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String key = arg.equals("-p") ? portKey : FLAGS.get(arg);
      if (arg.equals("--conf")) {
        config.mergeIn(readConf(value(args, ++i, arg)));
      } else if (key != null) {
        flags.put(key, typed(value(args, ++i, arg)));
      } else if (arg.startsWith("-")) {
        throw new UsageException("unknown option " + arg);
      } else {
        positional.add(arg);
      }
    }
    ENV.forEach((variable, key) -> {
      String value = System.getenv(variable);
      if (value != null && !value.isBlank()) {
        config.put(key, value);
      }
    });
    config.mergeIn(flags);
    return new Options(config, positional);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[i];
  }

  private static Object typed(String value) {
    try {
      return Integer.valueOf(value);
    } catch (NumberFormatException e) {
      return value;
    }
  }

  private static JsonObject readConf(String file) {
    try {
      return new JsonObject(Files.readString(Path.of(file)));
    } catch (IOException e) {
      throw new UsageException("cannot read config " + file + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new UsageException("config " + file + " is not a JSON object: " + e.getMessage());
    }
  }
}
