package io.mpcsfaas.cli;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.mpcsfaas.config.ClusterConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * A clustered Vert.x for cluster mode: Hazelcast with multicast off and TCP/IP join to the listed members,
 * so it works the same on one machine over loopback and across machines; the event bus binds the same host.
 */
final class Cluster {
  private Cluster() {}

  static Vertx join(JsonObject conf) {
    ClusterConfig cluster = ClusterConfig.from(conf);
    String host = cluster.host();
    Config hazelcast = ConfigUtil.loadConfig();
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0"); // joins in ~5 s instead of ~15
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    NetworkConfig network = hazelcast.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(true);
    network.getInterfaces().setEnabled(true).addInterface(host);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true);
    cluster.join().forEach(join.getTcpIpConfig()::addMember);
    VertxOptions options = new VertxOptions()
        .setEventBusOptions(new EventBusOptions().setHost(host).setClusterPublicHost(host));
    return Metrics.vertx(options).withClusterManager(new HazelcastClusterManager(hazelcast)).buildClustered().await();
  }
}
