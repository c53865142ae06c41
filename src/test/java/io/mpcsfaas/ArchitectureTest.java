package io.mpcsfaas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Arrows only point downward: each package imports only the packages of the layers below its own. */
class ArchitectureTest {
  /** Layers from the top; a package may use those of later layers only. */
  private static final List<Set<String>> LAYERS = List.of(
      Set.of("cli"),
      Set.of("api", "bench", "dispatch"),
      Set.of("worker"),
      Set.of("transport", "store"),
      Set.of("task", "config", "async", "heap"));
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.mpcsfaas\\.([a-z]+)\\.",
      Pattern.MULTILINE);

  @Test
  void everyImportPointsToALowerLayer() throws IOException {
    Path root = Path.of("src/main/java/io/mpcsfaas");
    Set<String> packages = new TreeSet<>();
    List<String> upward = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String from = root.relativize(file).getName(0).toString();
        packages.add(from);
        Matcher imports = IMPORT.matcher(Files.readString(file));
        while (imports.find()) {
          String to = imports.group(1);
          if (!to.equals(from) && layer(to) <= layer(from)) {
            upward.add(root.relativize(file) + " imports " + to);
          }
        }
      }
    }
    assertEquals(List.of(), upward, "imports of the same or a higher layer");
    assertEquals(new TreeSet<>(LAYERS.stream().flatMap(Set::stream).toList()), packages,
        "every package has its layer");
  }

  private static int layer(String pkg) {
    for (int i = 0; i < LAYERS.size(); i++) {
      if (LAYERS.get(i).contains(pkg)) {
        return i;
      }
    }
    throw new AssertionError("package " + pkg + " has no layer in LAYERS");
  }
}
