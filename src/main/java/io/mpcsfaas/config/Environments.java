package io.mpcsfaas.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Named environments: a function registered with {@code env} runs only on interpreters of that name. The one
 * every dispatcher and worker offers is {@link #DEFAULT}, its {@code --python}; {@code --env NAME=PYTHON} adds more.
 */
public final class Environments {
  /** The environment of a function registered without one, and of the interpreter {@code --python} names. */
  public static final String DEFAULT = "default";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  private Environments() {}

  public static boolean validName(String name) {
    return NAME.matcher(name).matches();
  }

  /**
   * The environments of setting {@code environments} ({@code NAME=PYTHON} each), by name, {@link #DEFAULT} first
   * with {@code python} (empty: found as today); fails on a malformed or repeated one, and on one named
   * {@link #DEFAULT} (that one is {@code --python}, so that one interpreter is not named in two places).
   */
  public static Map<String, String> from(JsonObject conf) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(DEFAULT, Conf.string(conf, "python"));
    for (String spec : list(conf)) {
      int eq = spec.indexOf('=');
      String name = eq < 0 ? spec : spec.substring(0, eq).trim();
      String python = eq < 0 ? "" : spec.substring(eq + 1).trim();
      if (!validName(name) || python.isEmpty()) {
        throw new IllegalArgumentException("--env " + spec + ": expected NAME=PYTHON with NAME of 1 to 64 of "
            + "A-Z a-z 0-9 _ . -");
      }
      if (name.equals(DEFAULT)) {
        throw new IllegalArgumentException("--env " + spec + ": the environment default is --python");
      }
      if (out.containsKey(name)) {
        throw new IllegalArgumentException("--env " + name + " is given twice");
      }
      out.put(name, python);
    }
    return out;
  }

  /** The setting's items: a list (flags, a JSON file) or one comma-separated string (the environment). */
  private static List<String> list(JsonObject conf) {
    Object value = Conf.value(conf, "environments");
    if (value instanceof JsonArray array) {
      return array.stream().map(String::valueOf).toList();
    }
    if (value instanceof List<?> items) {
      return items.stream().map(String::valueOf).toList();
    }
    String text = String.valueOf(value).trim();
    return text.isEmpty() ? List.of() : List.of(text.split(","));
  }
}
