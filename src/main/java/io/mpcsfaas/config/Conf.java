package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Reads the platform's nested JSON config: the value at a dotted key ({@code "api.port"} is
 * {@code {"api": {"port": ..}}}), or its default from {@link Setting#ALL}, the one place defaults are written.
 */
public final class Conf {
  private Conf() {}

  public static String string(JsonObject conf, String key) {
    return String.valueOf(value(conf, key));
  }

  public static int integer(JsonObject conf, String key) {
    return Math.toIntExact(number(conf, key));
  }

  public static long number(JsonObject conf, String key) {
    Object value = value(conf, key);
    if (value instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("config " + key + ": expected a whole number, got '" + value + "'");
    }
  }

  public static Mode mode(JsonObject conf) {
    return Mode.parse(string(conf, "mode"));
  }

  /** The value at {@code key}, or its default. */
  static Object value(JsonObject conf, String key) {
    Object value = find(conf, key);
    return value != null ? value : Setting.of(key).defaultValue();
  }

  private static Object find(JsonObject conf, String key) {
    Object flat = conf.getValue(key);
    if (flat != null) {
      return flat;
    }
    int dot = key.indexOf('.');
    if (dot < 0) {
      return null;
    }
    Object inner = conf.getValue(key.substring(0, dot));
    return inner instanceof JsonObject object ? find(object, key.substring(dot + 1)) : null;
  }

  /** Sets the value at a dotted key, creating the nested objects on the way. */
  public static JsonObject put(JsonObject conf, String key, Object value) {
    int dot = key.indexOf('.');
    if (dot < 0) {
      return conf.put(key, value);
    }
    String head = key.substring(0, dot);
    if (!(conf.getValue(head) instanceof JsonObject)) {
      conf.put(head, new JsonObject());
    }
    put(conf.getJsonObject(head), key.substring(dot + 1), value);
    return conf;
  }

  /** The same config with every flat dotted key moved into nested objects; later keys win. */
  public static JsonObject nest(JsonObject conf) {
    JsonObject nested = new JsonObject();
    for (Map.Entry<String, Object> entry : conf) {
      Object value = entry.getValue() instanceof JsonObject inner ? nest(inner) : entry.getValue();
      if (value instanceof JsonObject inner && nested.getValue(entry.getKey()) instanceof JsonObject existing) {
        existing.mergeIn(inner, true);
      } else {
        put(nested, entry.getKey(), value);
      }
    }
    return nested;
  }
}
