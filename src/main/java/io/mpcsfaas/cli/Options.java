package io.mpcsfaas.cli;

import io.mpcsfaas.config.ApiConfig;
import io.mpcsfaas.config.ClusterConfig;
import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Environments;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.config.Setting;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns a parsed command into the platform's nested config: {@link Setting} defaults, then {@code --conf FILE},
 * then environment variables, then flags. Keys are the same in files and in the table ({@code "api.port"}).
 */
final class Options {
  private Options() {}

  static JsonObject defaults() {
    JsonObject defaults = new JsonObject();
    Setting.ALL.forEach(s -> defaults.put(s.key(), s.defaultValue()));
    return defaults;
  }

  /** The config of a command of {@link Commands#line()}; fails as a usage error on a value it cannot use. */
  static JsonObject config(ParseResult parsed) {
    CommandSpec spec = parsed.commandSpec();
    String command = spec.name();
    JsonObject config = defaults();
    Path file = parsed.matchedOptionValue("--conf", null);
    if (file != null) {
      config.mergeIn(readConf(spec, file));
    }
    for (Setting setting : Setting.ALL) {
      String value = setting.env() == null ? null : System.getenv(setting.env());
      if (value != null && !value.isBlank()) {
        config.put(setting.key(), value);
      }
    }
    for (Setting setting : Setting.ALL) {
      OptionSpec option = setting.flags().isEmpty() ? null : spec.findOption(setting.flags().get(0));
      if (option != null && parsed.hasMatchedOption(option)) {
        Object value = option.getValue();
        config.put(setting.key(), value instanceof String[] items ? new JsonArray(List.of(items)) : value);
      }
    }
    if (command.endsWith("-worker")) {
      config.put("mode", command.substring(0, command.indexOf('-')));
      config.put("workers", parsed.matchedPositionalValue(0, 0));
      if (!command.equals("cluster-worker")) {
        config.put("dispatcher.url", parsed.matchedPositionalValue(1, ""));
      }
    }
    JsonObject nested = Conf.nest(config);
    check(spec, nested, file);
    return nested;
  }

  /**
   * Checks what a file or the environment set, which picocli did not parse: whole numbers, the mode, the
   * Sentinels and replica counts, that the API's certificate and key go together and can be read, and that the
   * cluster's TLS files come together.
   */
  private static void check(CommandSpec spec, JsonObject config, Path file) {
    String source = file == null ? "" : "config " + file + ": ";
    for (Setting setting : Setting.ALL) {
      if (setting.defaultValue() instanceof Number) {
        try {
          Conf.number(config, setting.key());
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), source + e.getMessage());
        }
      }
    }
    try {
      Conf.mode(config);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), source + "mode: " + e.getMessage());
    }
    try {
      Environments.from(config);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), source + e.getMessage());
    }
    if (Setting.of("redis.sentinels").commands().contains(spec.name())) {
      try {
        RedisConfig.from(config);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), source + e.getMessage());
      }
    }
    if (Setting.of("api.tls_cert").commands().contains(spec.name())) {
      try {
        ApiConfig.from(config);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    try {
      ClusterConfig.from(config);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), source + e.getMessage());
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

  private static JsonObject readConf(CommandSpec spec, Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ParameterException(spec.commandLine(), "config " + file + " does not exist");
    } catch (IOException e) {
      throw new ParameterException(spec.commandLine(), "cannot read config " + file + ": " + e.getMessage());
    }
    try {
      return flat(new JsonObject(text), "");
    } catch (RuntimeException e) {
      throw new ParameterException(spec.commandLine(), "config " + file + " is not a JSON object: "
          + e.getMessage().lines().findFirst().orElse(""));
    }
  }
}
