package io.mpcsfaas;

import io.mpcsfaas.store.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A throwaway {@code redis-server} for one test class, on a free loopback port (never 6379), with its files
 * in the test's temporary folder, plus the raw-command helpers the tests use to look at what is stored.
 */
public final class TestRedis implements AutoCloseable {
  private final Path dir;
  private final boolean appendOnly;
  private final int port;
  private RedisServer server;

  private TestRedis(Path dir, boolean appendOnly, int port, RedisServer server) {
    this.dir = dir;
    this.appendOnly = appendOnly;
    this.port = port;
    this.server = server;
  }

  /** Starts a server on a free port; retries with another port if the one found was taken meanwhile. */
  public static TestRedis start(Path dir, boolean appendOnly) throws IOException {
    IOException last = null;
    for (int i = 0; i < 5; i++) {
      int port = freePort();
      try {
        return new TestRedis(dir, appendOnly, port, RedisServer.start(port, dir, appendOnly));
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /** A loopback TCP port nobody listens on right now (never Redis's default 6379). */
  public static int freePort() {
    for (int i = 0; i < 20; i++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        int port = socket.getLocalPort();
        if (port != 6379) {
          return port;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("no free port");
  }

  /** Eight random hex digits, for a key prefix or a name that no other test on the shared server uses. */
  public static String randomTag() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path dir() {
    return dir;
  }

  /** SIGKILL, as a crash. */
  public void kill() {
    server.kill();
  }

  /** Starts the server again on the same port and folder (with append-only on, nothing written is lost). */
  public void restart() throws IOException {
    server = RedisServer.start(port, dir, appendOnly);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }

  /**
   * A client of this server. Close it after each test: a {@code TaskQueue} keeps one pooled connection for its
   * blocking reads for as long as it lives (it has no close), so a client shared by many queues runs dry.
   */
  public Redis client(Vertx vertx) {
    return Redis.createClient(vertx, new RedisOptions().setConnectionString(url()).setMaxPoolSize(16)
        .setMaxPoolWaiting(1000));
  }

  // ---------------------------------------------------------------- raw-command helpers

  /** Sends a command (blocking, off the event loop) and returns its reply. */
  public static Response cmd(Redis redis, Command command, Object... args) {
    Request request = Request.cmd(command);
    for (Object arg : args) {
      request.arg(arg.toString());
    }
    return await(redis.send(request));
  }

  /** How many times Redis has run the commands named so far (lower case, as INFO commandstats names them). */
  public static long calls(Redis redis, String... commands) {
    String stats = cmd(redis, Command.INFO, "commandstats").toString();
    long calls = 0;
    for (String line : stats.split("\r?\n")) {
      for (String command : commands) {
        if (line.startsWith("cmdstat_" + command + ":")) {
          calls += Long.parseLong(line.replaceAll("^[^:]+:calls=(\\d+),.*", "$1"));
        }
      }
    }
    return calls;
  }

  /** HGETALL as a map (RESP3 answers a map, RESP2 a flat list). */
  public static Map<String, String> hash(Redis redis, String key) {
    Response reply = cmd(redis, Command.HGETALL, key);
    Map<String, String> out = new LinkedHashMap<>();
    if (reply == null) {
      return out;
    }
    if (reply.isMap()) {
      for (String field : reply.getKeys()) {
        out.put(field, reply.get(field).toString());
      }
    } else {
      for (int i = 0; i + 1 < reply.size(); i += 2) {
        out.put(reply.get(i).toString(), reply.get(i + 1).toString());
      }
    }
    return out;
  }

  public static long dbsize(Redis redis) {
    return cmd(redis, Command.DBSIZE).toLong();
  }

  public static long xlen(Redis redis, String key) {
    return cmd(redis, Command.XLEN, key).toLong();
  }

  /** Number of entries pending (claimed, not acked) in a consumer group. */
  public static long pendingCount(Redis redis, String stream, String group) {
    return cmd(redis, Command.XPENDING, stream, group).get(0).toLong();
  }

  public static boolean exists(Redis redis, String key) {
    return cmd(redis, Command.EXISTS, key).toInteger() == 1;
  }

  /** Number of keys matching a pattern (SCAN, so it is safe on any server size). */
  public static int countKeys(Redis redis, String pattern) {
    int count = 0;
    String cursor = "0";
    do {
      Response reply = cmd(redis, Command.SCAN, cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = reply.get(0).toString();
      count += reply.get(1).size();
    } while (!cursor.equals("0"));
    return count;
  }

  /** The names of the keys matching a pattern (SCAN, so it is safe on any server size). */
  public static java.util.List<String> keys(Redis redis, String pattern) {
    java.util.List<String> names = new java.util.ArrayList<>();
    String cursor = "0";
    do {
      Response reply = cmd(redis, Command.SCAN, cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = reply.get(0).toString();
      reply.get(1).forEach(name -> names.add(name.toString()));
    } while (!cursor.equals("0"));
    return names;
  }

  // ---------------------------------------------------------------- waiting

  /** Blocks on a future for at most 30 s (use only off the event loop). */
  public static <T> T await(Future<T> future) {
    try {
      return future.await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 30 s", e);
    }
  }

  /** The failure of a future that must fail (blocking). */
  public static Throwable awaitFailure(Future<?> future) {
    try {
      future.await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 30 s", e);
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected a failure, got " + future.result());
  }

  /** Polls {@code condition} every 20 ms until it holds; fails with {@code what} after {@code timeout}. */
  public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
      }
      pause(20);
    }
  }

  /** Checks that {@code condition} keeps holding for the whole of {@code duration} (polled every 50 ms). */
  public static void holdsFor(Duration duration, String what, BooleanSupplier condition) {
    long until = System.nanoTime() + duration.toNanos();
    do {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("stopped holding within " + duration.toMillis() + " ms: " + what);
      }
      pause(50);
    } while (System.nanoTime() < until);
  }

  /** Short pause between polls (the only sleeping the tests do). */
  public static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
