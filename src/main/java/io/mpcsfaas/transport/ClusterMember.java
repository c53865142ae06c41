package io.mpcsfaas.transport;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.mpcsfaas.config.ClusterConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * How a cluster-mode node joins the Vert.x cluster: Hazelcast with multicast off and TCP/IP join to the
 * listed members, so it works the same on one machine over loopback and across machines; the event bus
 * binds the same host. Hazelcast's own traffic (membership, which addresses have consumers) stays plain; the
 * messages, tasks and results among them, go over the event bus, which TLS can guard.
 */
public final class ClusterMember {
  private ClusterMember() {}

  /** A new cluster manager: one per join, since a Hazelcast member that has left cannot join again. */
  public static HazelcastClusterManager manager(ClusterConfig cluster) {
    Config hazelcast = ConfigUtil.loadConfig();
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0"); // joins in ~5 s instead of ~15
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    // A member that stops answering (frozen, or its machine gone, with no connection closed to tell) is
    // dropped after this silence instead of Hazelcast's 60 s, so its workers move to another dispatcher.
    long timeoutSeconds = Math.max(1, (cluster.memberTimeoutMillis() + 999) / 1000);
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(timeoutSeconds));
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds",
        Long.toString(Math.max(1, Math.min(5, timeoutSeconds / 3))));
    NetworkConfig network = hazelcast.getNetworkConfig();
    // A dispatcher restarted after a crash gets its port back at once (its old connections sit in TIME_WAIT
    // for a minute), where the workers' join lists look for it.
    network.setPort(cluster.port()).setPortAutoIncrement(true).setReuseAddress(true);
    network.getInterfaces().setEnabled(true).addInterface(cluster.host());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true);
    cluster.join().forEach(join.getTcpIpConfig()::addMember);
    return new HazelcastClusterManager(hazelcast);
  }

  /**
   * Vert.x options whose event bus listens on this node's cluster host; with TLS configured, both ends of
   * every event-bus connection show a certificate signed by the cluster's CA, or no message passes.
   */
  public static VertxOptions options(ClusterConfig cluster) {
    EventBusOptions bus = new EventBusOptions().setHost(cluster.host()).setClusterPublicHost(cluster.host());
    if (cluster.tls()) {
      bus.setSsl(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cluster.tlsCert()).setKeyPath(cluster.tlsKey()))
          .setTrustOptions(new PemTrustOptions().addCertPath(cluster.tlsCa()))
          .setClientAuth(ClientAuth.REQUIRED);
    }
    return new VertxOptions().setEventBusOptions(bus);
  }
}
