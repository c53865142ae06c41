package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The one definition of what a client may see of a stored task: the fields of its hash, read either from an
 * HMGET of them (its result apart) or from a message on the done channel. Such a message (see finish_tasks.lua,
 * which lists the same fields) is the id of a task that ended, followed, when its outcome is small, by a newline
 * and those fields as JSON, which then equal what Redis holds (an ended task never changes). A task that printed
 * something also has the {@link #OUTPUT_FIELDS}, in its hash and in its message; one that printed nothing
 * has neither. Each read also asks for the task's {@code tenant} (its owner, absent for none), last, so that
 * the store lets a caller see only its own tasks in the same round trip.
 */
final class TaskCodec {
  /** The fields of a task hash that make a {@link TaskRecord}, in the order an HMGET asks for them. */
  static final List<String> FIELDS = List.of("status", "result", "error", "worker", "attempts", "created_at",
      "started_at", "finished_at", "cancelled");
  /** The fields of a task that printed something ({@code output_truncated} is "1" or "0"). */
  static final List<String> OUTPUT_FIELDS = List.of("stdout", "stderr", "output_truncated");
  private static final String TENANT = "tenant";
  /** The count of the pieces of a result stored in pieces (see LargeValues). */
  private static final String RESULT_PIECES = LargeValues.countField("result");
  /**
   * What a read of a task asks for: the record's fields but its result, which is read apart (see
   * TaskStore#tasks), the count of the result's pieces, and the owner of a big result (see
   * TaskQueue#stageBigResults), whose value a dispatcher in this JVM may have handed over.
   */
  private static final List<String> READ = Stream.of(FIELDS.stream().filter(f -> !f.equals("result")),
      OUTPUT_FIELDS.stream(), Stream.of(RESULT_PIECES, "result_owner", TENANT)).flatMap(s -> s).toList();
  private static final List<String> READ_OUTPUT = Stream.of(Stream.of("status"), OUTPUT_FIELDS.stream(),
      Stream.of(TENANT)).flatMap(s -> s).toList();
  private static final List<String> READ_STATUS = List.of("status", TENANT);

  private TaskCodec() {}

  /** The task's fields but its result ({@link #READ}). */
  static Request read(String taskKey) {
    return hmget(taskKey, READ);
  }

  /** The task, without its result, from the reply to {@link #read}; null when Redis does not know it. */
  static TaskRecord fromHash(String id, Response values) {
    return record(id, field -> field.equals("result") ? null : text(values.get(READ.indexOf(field))));
  }

  /** The count of the pieces of the task's result from the reply to {@link #read}; null when stored whole. */
  static Response resultPieces(Response values) {
    return values.get(READ.indexOf(RESULT_PIECES));
  }

  /** The owner of the task's big result from the reply to {@link #read}; null when it has none. */
  static String owner(Response values) {
    return text(values.get(READ.indexOf("result_owner")));
  }

  /** The status and output of a task, without reading a possibly large result. */
  static Request readOutput(String taskKey) {
    return hmget(taskKey, READ_OUTPUT);
  }

  /** The task's output from the reply to {@link #readOutput}; null when Redis does not know the task. */
  static OutputRecord outputFromHash(String id, Response values) {
    UnaryOperator<String> field = name -> text(values.get(READ_OUTPUT.indexOf(name)));
    TaskStatus status = status(values);
    return status == null ? null : new OutputRecord(id, status, output(field));
  }

  private static Request hmget(String taskKey, List<String> fields) {
    Request hmget = Request.cmd(Command.HMGET).arg(taskKey);
    fields.forEach(hmget::arg);
    return hmget;
  }

  /** Just the status, without reading a possibly large result. */
  static Request readStatus(String taskKey) {
    return hmget(taskKey, READ_STATUS);
  }

  /** The status from the reply to {@link #readStatus}; null when Redis does not know the task. */
  static TaskStatus status(Response values) {
    Response value = values.get(0);
    return value == null ? null : TaskStatus.valueOf(value.toString());
  }

  /** The task's tenant from the reply to any of the reads here; null when it has none. */
  static String tenant(Response values) {
    return text(values.get(values.size() - 1));
  }

  static String doneTaskId(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** The task a done message carries, or null when it carries only the id. */
  static TaskRecord fromDoneMessage(String message) {
    int newline = message.indexOf('\n');
    if (newline < 0) {
      return null;
    }
    JsonObject json = new JsonObject(message.substring(newline + 1));
    return record(message.substring(0, newline), field -> {
      Object value = json.getValue(field);
      return value == null ? null : value.toString();
    });
  }

  /** Both forms: a field absent (or, for a count or a time, empty: the script's "not set") reads as not set. */
  private static TaskRecord record(String id, UnaryOperator<String> field) {
    String status = field.apply("status");
    if (status == null) {
      return null;
    }
    String attempts = set(field.apply("attempts"));
    return new TaskRecord(id, TaskStatus.valueOf(status), field.apply("result"), field.apply("error"),
        field.apply("worker"), attempts == null ? 0 : Integer.parseInt(attempts), set(field.apply("created_at")),
        set(field.apply("started_at")), set(field.apply("finished_at")),
        "1".equals(field.apply("cancelled")), output(field), false);
  }

  private static TaskOutput output(UnaryOperator<String> field) {
    String stdout = field.apply("stdout");
    String stderr = field.apply("stderr");
    if (stdout == null && stderr == null) {
      return TaskOutput.NONE;
    }
    return new TaskOutput(stdout == null ? "" : stdout, stderr == null ? "" : stderr,
        "1".equals(field.apply("output_truncated")));
  }

  private static String set(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  private static String text(Response r) {
    return r == null ? null : r.toString();
  }
}
