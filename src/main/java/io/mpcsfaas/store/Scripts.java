package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** A Lua script shipped in the jar, run by its SHA1 and loaded into Redis on first use or after a flush. */
final class Scripts {
  private final String source;
  private final String sha;

  private Scripts(String source) {
    this.source = source;
    this.sha = sha1(source);
  }

  /** One script from its files, in order: Redis has no includes, so shared Lua goes before what uses it. */
  static Scripts load(String... names) {
    StringBuilder source = new StringBuilder();
    for (String name : names) {
      try (InputStream in = Scripts.class.getResourceAsStream("/redis/" + name)) {
        if (in == null) {
          throw new IllegalStateException("missing script " + name);
        }
        source.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new Scripts(source.toString());
  }

  Future<Response> run(Redis redis, List<String> keys, List<String> args) {
    return run(redis, ReplicaWait.NONE, keys, args);
  }

  /** Runs the script; its reply once {@code replicas} hold what it wrote. */
  Future<Response> run(Redis redis, ReplicaWait replicas, List<String> keys, List<String> args) {
    return replicas.send(redis, request(Command.EVALSHA, sha, keys, args)).recover(err -> {
      if (noScript(err)) {
        return replicas.send(redis, request(Command.EVAL, source, keys, args));
      }
      return Future.failedFuture(err);
    });
  }

  /** A call of the script by its SHA1, to send in a {@link #batch}. */
  Request call(List<String> keys, List<String> args) {
    return request(Command.EVALSHA, sha, keys, args);
  }

  /**
   * Sends {@code requests}, some of them {@link #call}s of this script, in one round trip; again once the script
   * is loaded if Redis lacks it (it fails the whole batch then). For batches that write nothing, which may run twice.
   */
  Future<List<Response>> batch(Redis redis, List<Request> requests) {
    return redis.batch(requests).recover(err -> noScript(err)
        ? redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(source)).compose(loaded -> redis.batch(requests))
        : Future.failedFuture(err));
  }

  private static boolean noScript(Throwable err) {
    return err.getMessage() != null && err.getMessage().contains("NOSCRIPT");
  }

  private static Request request(Command cmd, String script, List<String> keys, List<String> args) {
    Request req = Request.cmd(cmd).arg(script).arg(keys.size());
    keys.forEach(req::arg);
    args.forEach(req::arg);
    return req;
  }

  private static String sha1(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
