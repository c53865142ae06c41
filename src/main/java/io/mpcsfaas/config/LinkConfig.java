package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * Both ends of the link between a dispatcher and its remote workers: the mode, the names of the dispatchers
 * a worker may follow (a cluster worker may list several, in order of preference; the others use the first),
 * the dispatcher's ZeroMQ address, the shared token (empty: none) and the heartbeats.
 */
public record LinkConfig(Mode mode, List<String> dispatcherNames, String dispatcherUrl, String token,
    long heartbeatMillis, long heartbeatTimeoutMillis) {

  public static LinkConfig from(JsonObject conf) {
    List<String> names = Arrays.stream(Conf.string(conf, "dispatcher.name").split(","))
        .map(String::trim).filter(n -> !n.isEmpty()).toList();
    if (names.isEmpty()) {
      throw new IllegalArgumentException("config dispatcher.name: expected a dispatcher's name");
    }
    return new LinkConfig(Conf.mode(conf), names, Conf.string(conf, "dispatcher.url"),
        Conf.string(conf, "worker.token"), Conf.number(conf, "heartbeat.interval_ms"),
        Conf.number(conf, "heartbeat.timeout_ms"));
  }
}
