package io.mpcsfaas;

import io.mpcsfaas.worker.PythonLocator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The real Python side of the tests: a Python 3 with dill makes genuine client payloads (base64 of dill
 * pickles, as {@code codecs.encode(dill.dumps(obj), "base64").decode()} does) and decodes results the way a
 * client would.
 */
public final class Py {
  /** Defines {@code enc(obj)} and {@code out} (a dict printed as JSON at the end). */
  private static final String PRELUDE = String.join("\n",
      "import base64, codecs, json, os, pickle, signal, sys, time, types",
      "import dill",
      "def enc(obj, **kw):",
      "    return codecs.encode(dill.dumps(obj, **kw), 'base64').decode()",
      "out = {}",
      "");

  /** Turns a base64(dill) payload into a JSON description of the object. */
  private static final Map<String, JsonObject> DESCRIBED = new ConcurrentHashMap<>();
  private static final String DESCRIBE = String.join("\n",
      "def describe(text):",
      "    obj = dill.loads(base64.b64decode(text))",
      "    d = {'type': type(obj).__name__, 'repr': repr(obj), 'str': str(obj)}",
      "    if isinstance(obj, BaseException):",
      "        d['args'] = [str(a) for a in obj.args]",
      "        d['is_exception'] = True",
      "    return d",
      "");

  private static String python;

  private Py() {}

  /** A Python 3 that can import dill (the first python3 on PATH may not have it). */
  public static synchronized String python() {
    if (python == null) {
      python = PythonLocator.find(null);
    }
    return python;
  }

  /**
   * Runs {@code body} after a prelude that defines {@code enc(obj)} and a dict {@code out}, and returns
   * {@code out} as JSON. One process per call: use it once per test class for all the payloads it needs.
   */
  public static JsonObject payloads(String body) {
    String script = PRELUDE + body + "\nprint(json.dumps(out))\n";
    return new JsonObject(run(script, ""));
  }

  /**
   * The store tests' payloads: {@code fn} (x * 2), {@code args} ((21,), {}), {@code result} (42), {@code error}
   * (ValueError('bad')) and {@code exhausted} (RuntimeError('gave up')).
   */
  public static JsonObject doubling() {
    return payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))",
        "out['result'] = enc(42)",
        "out['error'] = enc(ValueError('bad'))",
        "out['exhausted'] = enc(RuntimeError('gave up'))"));
  }

  /** {@code fn}, a check(x) that raises ValueError for a negative x; {@code ok} ((1,), {}), {@code bad} ((-1,), {}). */
  public static JsonObject checking() {
    return payloads(String.join("\n",
        "def check(x):",
        "    if x < 0:",
        "        raise ValueError(x)",
        "    return x",
        "out['fn'] = enc(check)",
        "out['ok'] = enc(((1,), {}))",
        "out['bad'] = enc(((-1,), {}))"));
  }

  /**
   * Decodes a base64(dill) value as a client would: its type name, repr, str (and args for exceptions).
   * Remembered per value, since a test that checks a hundred equal results would otherwise start a hundred
   * Pythons (about 130 ms each).
   */
  public static JsonObject describe(String base64) {
    return DESCRIBED.computeIfAbsent(base64, value -> describeAll(List.of(value)).getJsonObject(0)).copy();
  }

  /** {@link #describe} for many values in one Python process. */
  public static JsonArray describeAll(List<String> base64Values) {
    String script = PRELUDE + DESCRIBE
        + "print(json.dumps([describe(t) for t in json.loads(sys.stdin.read())]))\n";
    return new JsonArray(run(script, new JsonArray(base64Values).encode()));
  }

  /** Runs a script with {@code stdin} as its input; fails with its stderr unless it exits 0. */
  public static String run(String script, String stdin) {
    try {
      ProcessBuilder builder = new ProcessBuilder(python(), "-c", script);
      builder.environment().put("PYTHONIOENCODING", "utf-8");
      Process process = builder.start();
      CompletableFuture<byte[]> out = readAsync(process.getInputStream());
      CompletableFuture<byte[]> err = readAsync(process.getErrorStream());
      try (OutputStream in = process.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("python did not finish within 60 s");
      }
      String stdout = new String(out.get(), StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new AssertionError("python failed (" + process.exitValue() + "):\n"
            + new String(err.get(), StandardCharsets.UTF_8) + "\nscript:\n" + script);
      }
      return stdout.trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError(e);
    }
  }

  private static CompletableFuture<byte[]> readAsync(InputStream stream) {
    return CompletableFuture.supplyAsync(() -> {
      try (stream) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        stream.transferTo(buffer);
        return buffer.toByteArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
