package io.mpcsfaas.api;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.store.Retries;
import io.mpcsfaas.store.TaskIndex;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** Reads and checks request bodies and parameters; every problem becomes an {@link ApiError} (4xx). */
final class RequestParsing {
  /** Most times a failed task may run again. */
  static final int MAX_RETRIES = 10;
  private RequestParsing() {}

  static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
    String text = ctx.queryParams().get(name);
    if (text == null) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw ApiError.badRequest("'" + name + "' must be an integer from " + min + " to " + max);
  }

  /** {@code ?name=true} or {@code false} (in any case); false when absent. */
  static boolean booleanParam(RoutingContext ctx, String name) {
    String text = ctx.queryParams().get(name);
    if (text == null || text.equalsIgnoreCase("false")) {
      return false;
    }
    if (text.equalsIgnoreCase("true")) {
      return true;
    }
    throw ApiError.badRequest("'" + name + "' must be true or false, got '" + abbreviate(text) + "'");
  }

  static long waitMillis(RoutingContext ctx) {
    String text = ctx.queryParams().get("wait");
    if (text == null) {
      return 0;
    }
    try {
      double seconds = Double.parseDouble(text);
      if (seconds >= 0 && seconds <= ApiVerticle.MAX_WAIT_SECONDS) {
        return (long) (seconds * 1000);
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw ApiError.badRequest("'wait' must be a number of seconds from 0 to " + ApiVerticle.MAX_WAIT_SECONDS);
  }

  /** Lets through requests without a content type or with a JSON (or plain text) one, and pickle bodies; else 415. */
  static void requireJsonContentType(RoutingContext ctx) {
    String type = ctx.request().getHeader("content-type");
    if (type != null && !type.toLowerCase().contains("json") && !type.toLowerCase().startsWith("text/plain")
        && !PickleBody.sent(ctx)) {
      ctx.fail(new ApiError(415, "the body must be JSON (content-type application/json), not " + type));
    } else {
      ctx.next();
    }
  }

  static JsonObject jsonBody(RoutingContext ctx) {
    Buffer raw = ctx.body().buffer();
    if (raw == null || raw.length() == 0) {
      throw ApiError.badRequest("the body must be a JSON object");
    }
    try {
      Object value = raw.toJsonValue();
      if (value instanceof JsonObject json) {
        return json;
      }
    } catch (DecodeException e) {
      throw ApiError.badRequest("the body is not valid JSON");
    }
    throw ApiError.badRequest("the body must be a JSON object");
  }

  static String requiredString(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      throw ApiError.badRequest("missing field '" + field + "'");
    }
    if (!(value instanceof String text)) {
      throw ApiError.badRequest("field '" + field + "' must be a string");
    }
    return text;
  }

  static JsonArray requiredArray(JsonObject body, String field, int maxSize) {
    Object value = body.getValue(field);
    if (value == null) {
      throw ApiError.badRequest("missing field '" + field + "'");
    }
    if (!(value instanceof JsonArray array)) {
      throw ApiError.badRequest("field '" + field + "' must be an array");
    }
    if (array.isEmpty() || array.size() > maxSize) {
      throw ApiError.badRequest("field '" + field + "' must hold 1 to " + maxSize + " items");
    }
    return array;
  }

  static String pickle(JsonObject body) {
    String payload = requiredString(body, "payload");
    String problem = PicklePayload.problem(payload);
    if (problem != null) {
      throw ApiError.badRequest(problem);
    }
    return payload;
  }

  static String uuid(String text, String field) {
    try {
      UUID parsed = UUID.fromString(text);
      if (parsed.toString().equalsIgnoreCase(text)) {
        return parsed.toString();
      }
    } catch (IllegalArgumentException e) {
      // fall through to the error below
    }
    throw ApiError.badRequest("'" + field + "' must be a UUID, got '" + abbreviate(text) + "'");
  }

  /** {@code ?status=}: null when absent. */
  static TaskStatus statusParam(RoutingContext ctx) {
    String text = ctx.queryParams().get("status");
    if (text == null) {
      return null;
    }
    try {
      return TaskStatus.valueOf(text);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("'status' must be one of QUEUED, RUNNING, COMPLETED, FAILED, got '"
          + abbreviate(text) + "'");
    }
  }

  /** {@code ?cursor=}, as the previous page gave it: null when absent. */
  static TaskIndex.Cursor cursorParam(RoutingContext ctx) {
    String text = ctx.queryParams().get("cursor");
    if (text == null) {
      return null;
    }
    try {
      return TaskIndex.Cursor.decode(text);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("'cursor' must be a next_cursor of an earlier page, got '" + abbreviate(text) + "'");
    }
  }

  static Integer optionalTimeout(JsonObject body) {
    Object value = body.getValue("timeout");
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number number) || number.doubleValue() < 1 || number.doubleValue() > 86_400) {
      throw ApiError.badRequest("field 'timeout' must be a number of seconds between 1 and 86400");
    }
    return (int) Math.ceil(number.doubleValue());
  }

  /** The environment a function is registered for: field {@code env}, the default when absent. */
  static String optionalEnv(JsonObject body) {
    Object env = body.getValue("env");
    if (env == null) {
      return Environments.DEFAULT;
    }
    if (!(env instanceof String name) || !Environments.validName(name)) {
      throw ApiError.badRequest("field 'env' must be an environment name: 1 to 64 of A-Z a-z 0-9 _ . -");
    }
    return name;
  }

  /** {@code max_retries} (an integer from 0 to 10) and {@code retry_delay} (seconds, 0 or more), each optional. */
  static Retries optionalRetries(JsonObject body) {
    Object max = body.getValue("max_retries");
    Object delay = body.getValue("retry_delay");
    if (max != null && !isWhole(max, 0, MAX_RETRIES)) {
      throw ApiError.badRequest("field 'max_retries' must be an integer from 0 to " + MAX_RETRIES);
    }
    if (delay != null && (!(delay instanceof Number seconds)
        || !Double.isFinite(seconds.doubleValue()) || seconds.doubleValue() < 0)) {
      throw ApiError.badRequest("field 'retry_delay' must be a number of seconds, 0 or more");
    }
    return new Retries(max == null ? null : ((Number) max).intValue(),
        delay == null ? null : ((Number) delay).doubleValue());
  }

  /**
   * {@code max_result_bytes} of {@code POST /results}: results longer than that are left out; without it, none
   * is ({@link Long#MAX_VALUE}).
   */
  static long optionalMaxResultBytes(JsonObject body) {
    Object max = body.getValue("max_result_bytes");
    if (max == null) {
      return Long.MAX_VALUE;
    }
    if (!isWhole(max, 0, Long.MAX_VALUE)) {
      throw ApiError.badRequest("'max_result_bytes' must be an integer, 0 or more");
    }
    return ((Number) max).longValue();
  }

  /** A JSON integer (not a number with a fraction) from {@code min} to {@code max}. */
  private static boolean isWhole(Object value, long min, long max) {
    return (value instanceof Integer || value instanceof Long) && ((Number) value).longValue() >= min
        && ((Number) value).longValue() <= max;
  }

  static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }
}
