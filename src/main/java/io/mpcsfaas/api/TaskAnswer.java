package io.mpcsfaas.api;

import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.TaskRecord;
import io.mpcsfaas.transport.JsonBytes;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.ext.web.RoutingContext;

/**
 * A task's answer, built: its value's bytes to a client that takes them once it completed ({@link PickleBody}),
 * else its JSON as {@link ApiVerticle#resultJson} says it, written into one array sized from its strings
 * (JsonBytes): Vert.x's Buffer grew by copies, twice the size of an 85 MiB result at once beside the result
 * itself and what the Redis client still held of it.
 */
record TaskAnswer(TaskRecord task, Buffer body, boolean pickle) {
  private static final int SLICE = 1 << 20;
  /** How much of an answer may wait to be written: slices go on while the ones before drain. */
  private static final int QUEUED = 4 * SLICE;

  static TaskAnswer of(TaskRecord task, boolean acceptsPickle) {
    Buffer value = acceptsPickle ? PickleBody.bytes(task) : null;
    if (value != null) {
      return new TaskAnswer(task, value, true);
    }
    Buffer json = BufferInternal.buffer(Unpooled.wrappedBuffer(JsonBytes.bytes(ApiVerticle.resultJson(task))));
    return new TaskAnswer(task, json, false);
  }

  /** A task whose answer is built off the event loop: decoding or writing its result takes milliseconds per MiB. */
  static boolean big(TaskRecord task) {
    return task.result() != null && task.result().length() >= HeapBudget.BIG;
  }

  void send(RoutingContext ctx, int status) {
    HttpServerResponse response = ctx.response().setStatusCode(status).putHeader("vary", "accept");
    if (pickle) {
      response.putHeader("content-type", PickleBody.TYPE).putHeader("x-task-id", task.id())
          .putHeader("x-task-status", task.status().name());
    } else {
      response.putHeader("content-type", "application/json");
    }
    if (body.length() <= SLICE) {
      response.end(body);
      return;
    }
    response.putHeader("content-length", String.valueOf(body.length())).setWriteQueueMaxSize(QUEUED);
    writeFrom(response, 0);
  }

  /**
   * Writes a big answer a slice at a time, each once the one before has drained. Written whole, Netty copies it
   * into one fresh direct buffer of its size on the event loop, whose first touch of each page is slow on a VM:
   * slices fit buffers of Netty's pool, used again and again.
   */
  private void writeFrom(HttpServerResponse response, int at) {
    int next = at;
    while (next < body.length() && !response.writeQueueFull()) {
      int end = Math.min(next + SLICE, body.length());
      response.write(body.slice(next, end));
      next = end;
    }
    if (next == body.length()) {
      response.end();
    } else {
      int from = next;
      response.drainHandler(drained -> {
        response.drainHandler(null); // a drain after the end would find the response written
        writeFrom(response, from);
      });
    }
  }
}
