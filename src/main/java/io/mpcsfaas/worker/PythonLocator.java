package io.mpcsfaas.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Finds a Python 3 that can {@code import dill}, and extracts the runner script from the jar for it. */
public final class PythonLocator {
  static final String INSTALL_HINT = "no Python 3 with dill found; install it with: apt-get install -y python3-dill"
      + " (or set FAAS_PYTHON to an interpreter that can import dill)";

  private PythonLocator() {}

  /** The configured interpreter if any, else the first of {@code python3}, {@code /usr/bin/python3} with dill. */
  public static String find(String configured) {
    List<String> candidates = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      candidates.add(configured);
    }
    candidates.add("python3");
    candidates.add("/usr/bin/python3");
    for (String candidate : candidates) {
      if (canImportDill(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(INSTALL_HINT);
  }

  /** The interpreter of a named environment, which must import dill: no other one may stand in for it. */
  static String require(String environment, String python) {
    if (!canImportDill(python)) {
      throw new IllegalStateException("--env " + environment + "=" + python + ": cannot run it and import dill");
    }
    return python;
  }

  private static boolean canImportDill(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import dill")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Writes the runner script to a temporary file that lives as long as this JVM. */
  static Path extractRunner() {
    try (InputStream in = PythonLocator.class.getResourceAsStream("/python/runner.py")) {
      if (in == null) {
        throw new IllegalStateException("runner.py missing from the jar");
      }
      Path file = Files.createTempFile("mpcsfaas-runner-", ".py");
      file.toFile().deleteOnExit();
      Files.write(file, in.readAllBytes());
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
