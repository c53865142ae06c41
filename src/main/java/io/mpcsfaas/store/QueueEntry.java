package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;

/**
 * One entry of the durable task queue, claimed by a dispatcher until the task ends; {@code env} names the
 * environment whose stream holds it (see {@link Keys#queue(String)}).
 */
public record QueueEntry(String entryId, String taskId, String env) {
  /** An entry of the default environment's stream. */
  public QueueEntry(String entryId, String taskId) {
    this(entryId, taskId, Environments.DEFAULT);
  }
}
