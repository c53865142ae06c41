package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskStatus;

/**
 * What a client may see of a task. {@code result} is null until it ends, {@code error} holds the traceback of
 * its last failed run; the timestamps (seconds since the epoch, as text) are null until reached;
 * {@code worker} ran it last; {@code cancelled} tells a task cancelled by request (it ended FAILED);
 * {@code output} is what it printed (so far, while it runs); {@code resultOmitted} tells an ended task whose big
 * result was left unread, the reader having no room for it then (TaskStore#tasks).
 */
public record TaskRecord(String id, TaskStatus status, String result, String error, String worker,
    int attempts, String createdAt, String startedAt, String finishedAt, boolean cancelled, TaskOutput output,
    boolean resultOmitted) {

  /** The same task with {@code result} as its result. */
  TaskRecord withResult(String result) {
    return new TaskRecord(id, status, result, error, worker, attempts, createdAt, startedAt, finishedAt, cancelled,
        output, false);
  }

  /** The same task, its result left unread. */
  TaskRecord withResultOmitted() {
    return new TaskRecord(id, status, null, error, worker, attempts, createdAt, startedAt, finishedAt, cancelled,
        output, true);
  }
}
