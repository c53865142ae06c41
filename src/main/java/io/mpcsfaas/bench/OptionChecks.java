package io.mpcsfaas.bench;

import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Checks of option values as picocli parses them, so that a bad one is a usage error naming the option. */
final class OptionChecks {
  private OptionChecks() {}

  static int atLeast(CommandSpec spec, int min, int n, String option) {
    if (n < min) {
      throw invalid(spec, option, n, "expected " + min + " or more");
    }
    return n;
  }

  static String oneOf(CommandSpec spec, List<String> words, String word, String option) {
    if (!words.contains(word)) {
      throw invalid(spec, option, word, "expected one of " + String.join(", ", words));
    }
    return word;
  }

  static ParameterException invalid(CommandSpec spec, String option, Object value, String expected) {
    return new ParameterException(spec.commandLine(),
        "Invalid value for option '" + option + "': '" + value + "' (" + expected + ")");
  }
}
