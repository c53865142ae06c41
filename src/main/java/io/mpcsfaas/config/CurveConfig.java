package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/**
 * The files of ZeroMQ CURVE between a pull/push dispatcher and its workers (each empty when not given): this
 * process's secret key; a dispatcher's authorized worker keys (a file or a folder); a worker's copy of the
 * dispatcher's public key.
 */
public record CurveConfig(String secretKeyFile, String authorizedKeys, String serverKeyFile) {

  public static CurveConfig from(JsonObject conf) {
    return new CurveConfig(Conf.string(conf, "curve.secret_key"), Conf.string(conf, "curve.authorized_keys"),
        Conf.string(conf, "curve.server_key"));
  }
}
