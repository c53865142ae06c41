package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;

/**
 * One entry of the durable task queue, claimed by a dispatcher until the task ends; {@code env} names the
 * environment whose stream holds it (see {@link Keys#queue(String)}), {@code bytes} the length of its task's
 * arguments when its entry says (those stored apart, over 64 KiB once base64, and a retry's); else 0.
 */
public record QueueEntry(String entryId, String taskId, String env, long bytes) {
  /** An entry of a task whose arguments are short. */
  public QueueEntry(String entryId, String taskId, String env) {
    this(entryId, taskId, env, 0);
  }

  /** An entry of the default environment's stream. */
  public QueueEntry(String entryId, String taskId) {
    this(entryId, taskId, Environments.DEFAULT);
  }
}
