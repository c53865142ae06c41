package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.UUID;

/** The client-facing half of the Redis model: functions, task creation and task lookups. */
public final class TaskStore {
  private static final Scripts CREATE_TASK = Scripts.load("create_task.lua");

  private final Redis redis;
  private final Keys keys;

  public TaskStore(Redis redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  public Future<String> registerFunction(String name, String payload) {
    String id = UUID.randomUUID().toString();
    Request hset = Request.cmd(Command.HSET).arg(keys.function(id))
        .arg("name").arg(name).arg("payload").arg(payload).arg("created_at").arg(Timestamps.now());
    return redis.send(hset).map(id);
  }

  /** Creates a task and queues it atomically; fails with {@link NotFoundException} for an unknown function. */
  public Future<String> createTask(String functionId, String payload, Integer timeoutSeconds) {
    String id = UUID.randomUUID().toString();
    List<String> scriptKeys = List.of(keys.function(functionId), keys.task(id), keys.queue());
    List<String> args = List.of(id, functionId, payload, Timestamps.now(), Keys.TASKS_CHANNEL,
        timeoutSeconds == null ? "" : timeoutSeconds.toString());
    return CREATE_TASK.run(redis, scriptKeys, args).compose(created -> created.toInteger() == 1
        ? Future.succeededFuture(id)
        : Future.failedFuture(new NotFoundException("function " + functionId + " not found")));
  }

  public Future<TaskRecord> task(String id) {
    Request hmget = Request.cmd(Command.HMGET).arg(keys.task(id)).arg("status").arg("result").arg("error")
        .arg("worker").arg("attempts").arg("created_at").arg("started_at").arg("finished_at");
    return redis.send(hmget).compose(f -> {
      String status = text(f.get(0));
      if (status == null) {
        return Future.failedFuture(notFound(id));
      }
      String attempts = text(f.get(4));
      return Future.succeededFuture(new TaskRecord(id, TaskStatus.valueOf(status), text(f.get(1)),
          text(f.get(2)), text(f.get(3)), attempts == null ? 0 : Integer.parseInt(attempts), text(f.get(5)),
          text(f.get(6)), text(f.get(7))));
    });
  }

  /** Just the status, without reading a possibly large result. */
  public Future<TaskStatus> status(String id) {
    return redis.send(Request.cmd(Command.HGET).arg(keys.task(id)).arg("status")).compose(status -> status == null
        ? Future.failedFuture(notFound(id))
        : Future.succeededFuture(TaskStatus.valueOf(status.toString())));
  }

  private static NotFoundException notFound(String taskId) {
    return new NotFoundException("task " + taskId + " not found");
  }

  public Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING)).mapEmpty();
  }

  static String text(Response r) {
    return r == null ? null : r.toString();
  }
}
