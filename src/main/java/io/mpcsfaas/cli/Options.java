package io.mpcsfaas.cli;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Setting;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a command line into the platform's config: {@link Setting} defaults, then {@code --conf FILE}, then
 * environment variables, then flags. Keys are flat ({@code "api.port"}) and the same in files and flags.
 */
final class Options {
  private static final Map<String, Setting> BY_FLAG = new HashMap<>();

  static {
    for (Setting setting : Setting.ALL) {
      setting.flags().forEach(flag -> BY_FLAG.put(flag, setting));
    }
  }

  /** The config, nested ({@code {"api": {"port": 8000}}}). */
  final JsonObject config;
  final List<String> positional;

  private Options(JsonObject config, List<String> positional) {
    this.config = config;
    this.positional = positional;
  }

  static JsonObject defaults() {
    JsonObject defaults = new JsonObject();
    Setting.ALL.forEach(s -> defaults.put(s.key(), s.defaultValue()));
    return defaults;
  }

  /** Parses {@code args}; {@code -p} means {@code portKey} (the API port, or the dispatcher's ZeroMQ port). */
  static Options parse(String[] args, String portKey) {
    JsonObject config = defaults();
    List<String> positional = new ArrayList<>();
    JsonObject flags = new JsonObject();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      Setting setting = BY_FLAG.get(arg);
      String key = arg.equals("-p") ? portKey : setting == null ? null : setting.key();
      if (arg.equals("--conf")) {
        config.mergeIn(readConf(value(args, ++i, arg)));
      } else if (key != null) {
        flags.put(key, typed(value(args, ++i, arg)));
      } else if (arg.startsWith("-")) {
        throw new UsageException("unknown option " + arg);
      } else {
        positional.add(arg);
      }
    }
    for (Setting setting : Setting.ALL) {
      String value = setting.env() == null ? null : System.getenv(setting.env());
      if (value != null && !value.isBlank()) {
        config.put(setting.key(), value);
      }
    }
    config.mergeIn(flags);
    return new Options(Conf.nest(config), positional);
  }

  /** The options of {@code command}, one per line, with their defaults. */
  static String help(String command) {
    StringBuilder out = new StringBuilder();
    for (Setting s : Setting.ALL) {
      if (!s.commands().contains(command)) {
        continue;
      }
      String flags = String.join(", ", s.flags()) + " " + s.key().replaceAll(".*[._]", "").toUpperCase();
      String source = s.env() == null ? "" : "$" + s.env() + ", ";
      out.append(String.format("  %-32s %s [%sdefault %s]%n", flags, s.help(), source,
          s.defaultValue().toString().isEmpty() ? "none" : s.defaultValue()));
    }
    out.append(String.format("  %-32s %s%n", "--conf FILE", "JSON config with the same keys (see conf/*.json)"));
    return out.toString();
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[i];
  }

  private static Object typed(String value) {
    try {
      return Integer.valueOf(value);
    } catch (NumberFormatException e) {
      return value;
    }
  }

  /** A nested config with its keys flattened, so that flags and environment variables override it key by key. */
  private static JsonObject flat(JsonObject nested, String prefix) {
    JsonObject flat = new JsonObject();
    nested.forEach(e -> {
      if (e.getValue() instanceof JsonObject inner) {
        flat.mergeIn(flat(inner, prefix + e.getKey() + "."));
      } else {
        flat.put(prefix + e.getKey(), e.getValue());
      }
    });
    return flat;
  }

  private static JsonObject readConf(String file) {
    try {
      return flat(new JsonObject(Files.readString(Path.of(file))), "");
    } catch (IOException e) {
      throw new UsageException("cannot read config " + file + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new UsageException("config " + file + " is not a JSON object: " + e.getMessage());
    }
  }
}
