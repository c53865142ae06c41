package io.mpcsfaas.task;

/**
 * One task as a worker receives it: the function and the {@code (args, kwargs)} tuple, both still in the
 * client's base64(dill) encoding, which only the Python runner decodes. {@code timeoutSeconds} is null for
 * the worker's default; {@code env} names the environment whose interpreters alone may run it.
 */
public record TaskSpec(String taskId, String functionId, String functionPayload, String argsPayload,
    Integer timeoutSeconds, String env) {

  /** This task with its function's payload (a worker sent the task without it had it already). */
  public TaskSpec withFunction(String payload) {
    return new TaskSpec(taskId, functionId, payload, argsPayload, timeoutSeconds, env);
  }
}
