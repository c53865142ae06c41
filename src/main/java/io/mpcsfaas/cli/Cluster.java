package io.mpcsfaas.cli;

import io.mpcsfaas.config.ClusterConfig;
import io.mpcsfaas.transport.ClusterMember;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The clustered Vert.x of a cluster-mode dispatcher ({@code up} or {@code dispatcher}), with its metrics. */
final class Cluster {
  private Cluster() {}

  static Vertx join(JsonObject conf) {
    ClusterConfig cluster = ClusterConfig.from(conf);
    return Metrics.vertx(ClusterMember.options(cluster)).withClusterManager(ClusterMember.manager(cluster))
        .buildClustered().await();
  }
}
