package io.mpcsfaas.worker;

/**
 * How an {@link InterpreterPool} runs its interpreters.
 *
 * @param size number of interpreter processes
 * @param python interpreter command that can import dill
 * @param lookaheadMillis a busy interpreter is handed more tasks while what it holds will likely have run
 *     within this time, so that it never idles waiting for its next task (0: one task per interpreter)
 * @param defaultTimeoutSeconds a task running longer is failed with TimeoutError and its interpreter replaced
 * @param memoryLimitMb address-space cap per interpreter (0 for none)
 */
public record PoolOptions(int size, String python, int lookaheadMillis, int defaultTimeoutSeconds, int memoryLimitMb) {

  long lookaheadNanos() {
    return lookaheadMillis * 1_000_000L;
  }
}
