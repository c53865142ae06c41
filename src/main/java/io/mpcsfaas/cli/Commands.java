package io.mpcsfaas.cli;

import io.mpcsfaas.bench.Bench;
import io.mpcsfaas.bench.Peers;
import io.mpcsfaas.config.Setting;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The {@code ./faas} command line, built from {@link Setting#ALL}: each command's flags, their help and
 * their defaults come from the table, so they are written once.
 */
final class Commands {
  /** Each command and what it does, in the order {@code --help} lists them. */
  static final Map<String, String> ALL = new LinkedHashMap<>();

  static {
    ALL.put("up", "the whole platform in one process: API, dispatcher (and in pull or push mode one worker), "
        + "and its own Redis if none answers");
    ALL.put("api", "the HTTP API alone");
    ALL.put("dispatcher", "the task dispatcher alone (-m local|pull|push|cluster, -p ZeroMQ port, -w interpreters)");
    ALL.put("pull-worker", "a worker that asks its dispatcher for tasks");
    ALL.put("push-worker", "a worker its dispatcher sends tasks to");
    ALL.put("cluster-worker", "a worker that joins the Vert.x cluster of a cluster-mode dispatcher");
    ALL.put("keygen", "write a CURVE key pair (NAME.key, NAME.pub) for a pull/push dispatcher or worker");
    ALL.put("status", "queue depth, workers and recent throughput of a running platform");
    ALL.put("bench", "measure a running server, or sweep modes and slots (./faas bench --help)");
    ALL.put("peers", "many simulated workers in one JVM that end every task at once, to measure a dispatcher, "
        + "Redis and the API (docs/scaling.md)");
    ALL.put("test", "run every test (Java and Python), installing what is missing (the ./faas script runs it)");
  }

  static final String SLOTS = "<num_worker_processors>";
  static final String DISPATCHER_URL = "<dispatcher url>";

  private Commands() {}

  /** The root command with every command below it. */
  static CommandLine line() {
    CommandSpec root = CommandSpec.create().name("faas").version("MPCSFaaS " + version())
        .mixinStandardHelpOptions(true);
    root.usageMessage().customSynopsis("./faas <command> [options]; ./faas <command> --help")
        .commandListHeading("%nCommands:%n").width(110);
    for (Map.Entry<String, String> command : ALL.entrySet()) {
      String name = command.getKey();
      CommandSpec spec = switch (name) {
        case "status" -> new CommandLine(new Status()).getCommandSpec();
        case "keygen" -> new CommandLine(new Keygen()).getCommandSpec();
        case "bench" -> new CommandLine(new Bench()).getCommandSpec();
        case "peers" -> new CommandLine(new Peers()).getCommandSpec();
        case "test" -> passThrough(name);
        default -> platform(name);
      };
      spec.usageMessage().description(command.getValue());
      root.addSubcommand(name, spec);
    }
    return new CommandLine(root);
  }

  /** The pom's version, which Maven writes into a resource at build time. */
  static String version() {
    try (InputStream in = Commands.class.getResourceAsStream("/io/mpcsfaas/version.properties")) {
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The flag {@code -p} stands for: the API's port for up and api, the ZeroMQ port for the dispatcher. */
  static String portKey(String command) {
    return switch (command) {
      case "up", "api" -> "api.port";
      case "dispatcher" -> "dispatcher.port";
      default -> null;
    };
  }

  /** A command that runs part of the platform: the flags of the settings it reads, and a worker's arguments. */
  private static CommandSpec platform(String command) {
    CommandSpec spec = CommandSpec.create().name(command);
    String synopsis = "./faas " + command;
    if (command.endsWith("-worker")) {
      synopsis += " " + SLOTS;
      spec.addPositional(PositionalParamSpec.builder().index("0").arity("1").required(true).paramLabel(SLOTS).type(int.class)
          .description("interpreter processes of this worker").build());
      if (!command.equals("cluster-worker")) {
        synopsis += " " + DISPATCHER_URL;
        spec.addPositional(PositionalParamSpec.builder().index("1").arity("1").required(true).paramLabel(DISPATCHER_URL)
            .description("the dispatcher's ZeroMQ address, e.g. tcp://127.0.0.1:5555").build());
      }
    }
    spec.usageMessage().customSynopsis(synopsis + " [options]").sortOptions(false).width(110)
        .optionListHeading("%nOptions:%n");
    for (Setting setting : Setting.ALL) {
      List<String> names = new ArrayList<>(setting.flags());
      if (setting.key().equals(portKey(command))) {
        names.add(0, "-p");
      }
      if (setting.commands().contains(command) && !names.isEmpty()) {
        spec.addOption(OptionSpec.builder(names.toArray(String[]::new)).type(type(setting))
            .paramLabel(setting.key().replaceAll(".*[._]", "").toUpperCase()).description(describe(setting))
            .build());
      }
    }
    spec.addOption(OptionSpec.builder("--conf").type(Path.class).paramLabel("FILE")
        .description("JSON config with the same keys (see conf/*.json); environment and flags override it")
        .build());
    spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("this help").build());
    return spec;
  }

  /** A command whose arguments go as they are to the code that reads them (the script's test). */
  private static CommandSpec passThrough(String command) {
    CommandSpec spec = CommandSpec.create().name(command);
    spec.parser().unmatchedOptionsArePositionalParams(true);
    spec.addPositional(PositionalParamSpec.builder().index("0..*").arity("0..*").type(String[].class)
        .paramLabel("ARGS").build());
    return spec;
  }

  /** A number's type, or String; a setting whose default is a list takes its flag once per item. */
  private static Class<?> type(Setting setting) {
    if (setting.defaultValue() instanceof List) {
      return String[].class;
    }
    return setting.defaultValue() instanceof Number ? setting.defaultValue().getClass() : String.class;
  }

  private static String describe(Setting setting) {
    String source = setting.env() == null ? "" : "$" + setting.env() + ", ";
    String value = setting.defaultValue() instanceof List<?> items && items.isEmpty() ? ""
        : setting.defaultValue().toString();
    return setting.help() + " [" + source + "default " + (value.isEmpty() ? "none" : value) + "]";
  }
}
