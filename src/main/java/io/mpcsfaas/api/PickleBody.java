package io.mpcsfaas.api;

import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.store.TaskRecord;
import io.mpcsfaas.task.Base64Text;
import io.mpcsfaas.task.TaskStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Calls and results as the pickle's own bytes instead of base64 inside JSON, for clients that send and take big
 * values. A submit with {@code Content-Type: application/octet-stream} carries {@code dill.dumps((args, kwargs))}
 * as its body and its fields as query parameters; a task asked for with {@code Accept: application/octet-stream}
 * comes as the bytes of {@code dill.dumps(value)} once it COMPLETED (and as JSON otherwise, errors included). The
 * client then skips base64 and JSON both ways, each a copy of the whole value in a Python process, and a quarter
 * fewer bytes cross the wire (docs/payloads.md). Stored values stay base64, so every other route reads as before.
 */
final class PickleBody {
  static final String TYPE = "application/octet-stream";
  static final String NOT_PICKLE = "the body is not a pickle stream (expected the bytes of dill.dumps((args, kwargs)) "
      + "with content-type " + TYPE + ")";
  /** The longest pickle body: its base64, the stored payload, must fit the longest value the platform stores. */
  static final long MAX_LENGTH = RedisConfig.MAX_VALUE / 4 * 3;
  static final String TOO_LONG = "a pickle body takes at most " + MAX_LENGTH + " bytes (" + (MAX_LENGTH >> 20)
      + " MiB): stored as base64, it must fit the " + (RedisConfig.MAX_VALUE >> 20) + " MiB a stored value may have";
  /** The only route that takes a pickle body. */
  static final String SUBMIT = "/execute_function";
  private static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

  private PickleBody() {}

  /** A submit whose body is the pickle itself. */
  static boolean sent(RoutingContext ctx) {
    String type = ctx.request().getHeader("content-type");
    return type != null && type.toLowerCase().startsWith(TYPE) && ctx.request().method() == HttpMethod.POST
        && SUBMIT.equals(ctx.normalizedPath());
  }

  /** A request that takes a completed task's value as bytes: its Accept names the type, with a weight above 0. */
  static boolean accepted(RoutingContext ctx) {
    return ctx.parsedHeaders().accept().stream()
        .anyMatch(range -> TYPE.equalsIgnoreCase(range.value()) && range.weight() > 0);
  }

  /** A query parameter as the JSON body would have carried it: a number when it is written as one. */
  static Object queryValue(String text) {
    if (!JSON_NUMBER.matcher(text).matches()) {
      return text;
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException notWhole) {
      return Double.parseDouble(text);
    }
  }

  /**
   * The value's bytes once the task COMPLETED, else null. Base64 with line breaks is read too, as the interpreters
   * read it; a stored value that is not base64 at all is null, answered as JSON rather than not at all.
   */
  static Buffer bytes(TaskRecord task) {
    if (task.status() != TaskStatus.COMPLETED || task.result() == null) {
      return null;
    }
    try {
      // Decoded piece by piece into one buffer: the whole text as bytes first would be a third copy of a big value.
      Base64Text text = new Base64Text(task.result());
      int length = text.decodedLength();
      ByteBuf bytes = Unpooled.buffer(length, length);
      text.decodeTo(new ByteBufOutputStream(bytes));
      return BufferInternal.buffer(bytes);
    } catch (IllegalArgumentException | IOException e) {
      return null;
    }
  }
}
