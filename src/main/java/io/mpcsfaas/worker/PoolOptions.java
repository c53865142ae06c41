package io.mpcsfaas.worker;

import io.mpcsfaas.config.Conf;
import io.vertx.core.json.JsonObject;

/**
 * How an {@link InterpreterPool} runs its interpreters.
 *
 * @param size number of interpreter processes
 * @param python interpreter command that can import dill
 * @param lookaheadMillis a busy interpreter is handed more tasks while what it holds will likely have run
 *     within this time, so that it never idles waiting for its next task (0: one task per interpreter)
 * @param defaultTimeoutSeconds a task running longer is failed with TimeoutError and its interpreter replaced
 * @param memoryLimitMb address-space cap per interpreter (0 for none)
 * @param maxOutputKb how much of each of a task's stdout and stderr is kept: its last KiB
 */
public record PoolOptions(int size, String python, int lookaheadMillis, int defaultTimeoutSeconds, int memoryLimitMb,
    int maxOutputKb) {

  /**
   * The pool's settings ("workers", "python", "worker.lookahead_ms", "task.timeout", "worker.memory_limit_mb",
   * "worker.max_output_kb").
   */
  static PoolOptions from(JsonObject conf) {
    return new PoolOptions(Conf.integer(conf, "workers"), PythonLocator.find(Conf.string(conf, "python")),
        Math.max(0, Conf.integer(conf, "worker.lookahead_ms")), Conf.integer(conf, "task.timeout"),
        Conf.integer(conf, "worker.memory_limit_mb"), Math.max(0, Conf.integer(conf, "worker.max_output_kb")));
  }

  long lookaheadNanos() {
    return lookaheadMillis * 1_000_000L;
  }
}
