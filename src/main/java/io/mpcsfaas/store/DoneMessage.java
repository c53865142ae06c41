package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonObject;

/**
 * A message on the done channel (see finish_tasks.lua): the id of a task that ended, followed, when its
 * outcome is small, by a newline and the task as JSON, which then equals what Redis holds (an ended task
 * never changes).
 */
public final class DoneMessage {
  private DoneMessage() {}

  public static String taskId(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** The task the message carries, or null when it carries only the id. */
  public static TaskRecord record(String message) {
    int newline = message.indexOf('\n');
    if (newline < 0) {
      return null;
    }
    JsonObject t = new JsonObject(message.substring(newline + 1));
    return new TaskRecord(message.substring(0, newline), TaskStatus.valueOf(t.getString("status")),
        t.getString("result"), t.getString("error"), t.getString("worker"),
        Integer.parseInt(t.getString("attempts")), present(t, "created_at"), present(t, "started_at"),
        present(t, "finished_at"));
  }

  private static String present(JsonObject t, String field) {
    String value = t.getString(field);
    return value == null || value.isEmpty() ? null : value;
  }
}
