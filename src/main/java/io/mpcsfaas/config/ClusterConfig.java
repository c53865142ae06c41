package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * Cluster mode: this node's address, the first Hazelcast port to try, the members to join, and how long a
 * member may stay silent before the others drop it.
 */
public record ClusterConfig(String host, int port, List<String> join, long memberTimeoutMillis) {

  public static ClusterConfig from(JsonObject conf) {
    List<String> members = Arrays.stream(Conf.string(conf, "cluster.join").split(","))
        .map(String::trim).filter(m -> !m.isEmpty()).toList();
    return new ClusterConfig(Conf.string(conf, "cluster.host"), Conf.integer(conf, "cluster.port"), members,
        Conf.number(conf, "cluster.member_timeout_ms"));
  }
}
