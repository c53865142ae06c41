package io.mpcsfaas.worker;

/**
 * How an {@link InterpreterPool} runs its interpreters.
 *
 * @param size number of interpreter processes
 * @param python interpreter command that can import dill
 * @param depth tasks handed to one interpreter at once: the one it runs and those waiting in its pipe, so
 *     that it never idles between tasks
 * @param defaultTimeoutSeconds a task running longer is failed with TimeoutError and its interpreter replaced
 * @param memoryLimitMb address-space cap per interpreter (0 for none)
 */
public record PoolOptions(int size, String python, int depth, int defaultTimeoutSeconds, int memoryLimitMb) {}
