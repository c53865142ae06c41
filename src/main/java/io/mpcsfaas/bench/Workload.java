package io.mpcsfaas.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A bench workload as clients send it: the function and, per distinct input, the {@code (args, kwargs)}
 * payload and the encoded value it must return. Made by running dill-capable Python once.
 */
record Workload(String name, String function, List<String> args, List<String> expected) {
  static final List<String> NAMES = List.of("noop", "sleep", "cpu");
  private static final Base64.Decoder LINES_ALLOWED = Base64.getMimeDecoder();

  /**
   * Whether {@code result} is the value task {@code index} must return: the same pickle, whatever line breaks
   * its base64 has (servers differ there, and clients decode either).
   */
  boolean returns(int index, String result) {
    return result != null && Arrays.equals(LINES_ALLOWED.decode(expected.get(index % expected.size())),
        LINES_ALLOWED.decode(result));
  }

  static Workload generate(String python, String name) throws IOException, InterruptedException {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("unknown workload '" + name + "' (expected one of " + NAMES + ")");
    }
    Path script = Files.createTempFile("mpcsfaas-bench-", ".py");
    try (InputStream in = Workload.class.getResourceAsStream("/python/bench_workloads.py")) {
      Files.write(script, in.readAllBytes());
      int inputs = name.equals("cpu") ? 20 : 1000;
      Process p = new ProcessBuilder(python, script.toString(), name, Integer.toString(inputs))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IOException("generating the " + name + " workload failed");
      }
      JsonObject json = new JsonObject(out);
      return new Workload(name, json.getString("function"), strings(json.getJsonArray("args")),
          strings(json.getJsonArray("expected")));
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static List<String> strings(JsonArray array) {
    return array.stream().map(String.class::cast).toList();
  }
}
