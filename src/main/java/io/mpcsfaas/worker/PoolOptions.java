package io.mpcsfaas.worker;

import io.mpcsfaas.config.Conf;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 * @param pythonPath absolute folders each interpreter puts first on {@code sys.path}
 */
public record PoolOptions(int size, String python, int lookaheadMillis, int defaultTimeoutSeconds, int memoryLimitMb,
    int maxOutputKb, List<String> pythonPath) {

  /**
   * The pool's settings ("workers", "python", "worker.lookahead_ms", "task.timeout", "worker.memory_limit_mb",
   * "worker.max_output_kb", "python_path").
   */
  static PoolOptions from(JsonObject conf) {
    return new PoolOptions(Conf.integer(conf, "workers"), PythonLocator.find(Conf.string(conf, "python")),
        Math.max(0, Conf.integer(conf, "worker.lookahead_ms")), Conf.integer(conf, "task.timeout"),
        Conf.integer(conf, "worker.memory_limit_mb"), Math.max(0, Conf.integer(conf, "worker.max_output_kb")),
        folders(Conf.string(conf, "python_path")));
  }

  /**
   * The folders of a {@code DIR:DIR} list, made absolute so that a task that changes its working folder does not
   * move them; a missing one fails the start, so that a typo is not found only when a task cannot import.
   */
  static List<String> folders(String list) {
    List<String> folders = new ArrayList<>();
    for (String folder : list.split(File.pathSeparator)) {
      if (folder.isBlank()) {
        continue;
      }
      Path path = Path.of(folder).toAbsolutePath().normalize();
      if (!Files.isDirectory(path)) {
        throw new IllegalArgumentException("--python-path " + folder + ": no such folder");
      }
      folders.add(path.toString());
    }
    return List.copyOf(folders);
  }

  /** The same options for the interpreters of another environment. */
  PoolOptions withPython(String otherPython) {
    return new PoolOptions(size, otherPython, lookaheadMillis, defaultTimeoutSeconds, memoryLimitMb, maxOutputKb,
        pythonPath);
  }

  long lookaheadNanos() {
    return lookaheadMillis * 1_000_000L;
  }
}
