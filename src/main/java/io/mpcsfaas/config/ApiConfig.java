package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The HTTP API: where it listens, the largest body it takes, the single admin key clients may send (empty:
 * none), the file of tenants' keys (empty: none), how long a deleted function stays for the tasks submitted
 * before (the result TTL), and the PEM certificate and key that make it HTTPS (both empty: plain HTTP).
 */
public record ApiConfig(String host, int port, long bodyLimit, String key, String keysFile, long resultTtlSeconds,
    String tlsCert, String tlsKey) {
  /** 128 MiB: a 64 MiB argument or function, base64 inside JSON, with room to spare. */
  public static final long DEFAULT_BODY_LIMIT = 128L << 20;
  /** 1 GiB: a pickle body this long is, once base64, the longest value the platform stores. */
  public static final long MAX_BODY_LIMIT = 1L << 30;

  /** The API's config; fails with a message naming the flags when the certificate and key do not go together. */
  public static ApiConfig from(JsonObject conf) {
    ApiConfig api = new ApiConfig(Conf.string(conf, "api.host"), Conf.integer(conf, "api.port"),
        Conf.number(conf, "api.body_limit"), Conf.string(conf, "api.key"), Conf.string(conf, "api.keys_file"),
        Conf.number(conf, "task.result_ttl"),
        Conf.string(conf, "api.tls_cert"), Conf.string(conf, "api.tls_key"));
    api.checkTls();
    api.checkBodyLimit();
    return api;
  }

  /** Whether the API speaks HTTPS. */
  public boolean tls() {
    return !tlsCert.isEmpty();
  }

  private void checkBodyLimit() {
    if (bodyLimit < 1 || bodyLimit > MAX_BODY_LIMIT) {
      throw new IllegalArgumentException(flag("api.body_limit") + " " + bodyLimit + ": must be between 1 and "
          + MAX_BODY_LIMIT + " bytes (" + (MAX_BODY_LIMIT >> 20) + " MiB)");
    }
  }

  /** Both files or neither, each readable: checked at start, so that a typo is a clear error, not a stack trace. */
  private void checkTls() {
    if (tlsCert.isEmpty() != tlsKey.isEmpty()) {
      throw new IllegalArgumentException(flag("api.tls_cert") + " and " + flag("api.tls_key") + " go together: "
          + flag(tlsCert.isEmpty() ? "api.tls_cert" : "api.tls_key") + " is missing");
    }
    checkReadable("api.tls_cert", tlsCert);
    checkReadable("api.tls_key", tlsKey);
  }

  private static void checkReadable(String key, String file) {
    Path path = Path.of(file);
    if (!file.isEmpty() && !(Files.isRegularFile(path) && Files.isReadable(path))) {
      throw new IllegalArgumentException(flag(key) + " " + file + ": "
          + (Files.exists(path) ? "not a readable file" : "no such file"));
    }
  }

  /** The flag of a setting, as the user may have written it. */
  private static String flag(String key) {
    return Setting.of(key).flags().get(0);
  }
}
