package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Cluster mode: this node's address, the first Hazelcast port to try, the members to join, how long a
 * member may stay silent before the others drop it, and the PEM files of the event bus's TLS (all three
 * empty: plain).
 */
public record ClusterConfig(String host, int port, List<String> join, long memberTimeoutMillis, String tlsCert,
    String tlsKey, String tlsCa) {

  public ClusterConfig {
    long given = Stream.of(tlsCert, tlsKey, tlsCa).filter(file -> !file.isBlank()).count();
    if (given != 0 && given != 3) {
      throw new IllegalArgumentException(
          "cluster TLS needs --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca together");
    }
  }

  public static ClusterConfig from(JsonObject conf) {
    List<String> members = Arrays.stream(Conf.string(conf, "cluster.join").split(","))
        .map(String::trim).filter(m -> !m.isEmpty()).toList();
    return new ClusterConfig(Conf.string(conf, "cluster.host"), Conf.integer(conf, "cluster.port"), members,
        Conf.number(conf, "cluster.member_timeout_ms"), Conf.string(conf, "cluster.tls_cert"),
        Conf.string(conf, "cluster.tls_key"), Conf.string(conf, "cluster.tls_ca"));
  }

  /** Whether the event bus speaks TLS with client certificates. */
  public boolean tls() {
    return !tlsCert.isBlank();
  }
}
