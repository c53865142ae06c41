package io.mpcsfaas.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is the users' table of settings: every key of {@link Setting#ALL} has its row. */
class ConfigurationDocTest {
  @Test
  void everySettingHasARowInTheConfigurationDoc() throws Exception {
    String doc = Files.readString(Path.of("docs/configuration.md"));
    List<String> missing = Setting.ALL.stream().map(Setting::key).filter(key -> !doc.contains("| `" + key + "` |"))
        .toList();
    assertEquals(List.of(), missing, "settings without a row in docs/configuration.md");
  }
}
