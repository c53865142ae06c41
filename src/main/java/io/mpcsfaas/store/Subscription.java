package io.mpcsfaas.store;

import io.mpcsfaas.async.Backoff;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A subscription to one channel on a connection of its own, kept up until {@link #close}: each message goes
 * to a handler, and after every (re)subscription another runs, since messages published while it was down
 * reached no one. It reconnects with backoff. Single-threaded (the context that calls {@link #start}).
 */
public final class Subscription {
  private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

  private final Vertx vertx;
  private final Redis redis;
  private final String channel;
  private final Consumer<String> onMessage;
  private final Runnable onSubscribed;
  private final Backoff backoff = new Backoff(5000);
  private RedisConnection connection;
  private boolean closed;

  public Subscription(Vertx vertx, Redis redis, String channel, Consumer<String> onMessage, Runnable onSubscribed) {
    this.vertx = vertx;
    this.redis = redis;
    this.channel = channel;
    this.onMessage = onMessage;
    this.onSubscribed = onSubscribed;
  }

  /** Subscribes; a failure is retried with backoff until {@link #close}. */
  public void start() {
    redis.connect().compose(conn -> {
      connection = conn;
      conn.handler(this::onPush);
      conn.exceptionHandler(err -> lost(conn));
      conn.endHandler(v -> lost(conn));
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(channel));
    }).onSuccess(r -> {
      backoff.reset();
      onSubscribed.run();
    }).onFailure(err -> retry());
  }

  public void close() {
    closed = true;
    if (connection != null) {
      connection.close();
    }
  }

  private void onPush(Response push) {
    // RESP3 push: [message, channel, payload]
    if (push.size() == 3 && "message".equals(push.get(0).toString())) {
      onMessage.accept(push.get(2).toString());
    }
  }

  private void lost(RedisConnection conn) {
    if (connection == conn) {
      retry();
    }
  }

  private void retry() {
    connection = null;
    if (closed) {
      return;
    }
    long delay = backoff.next();
    LOG.warn("lost the subscription to {}; retrying in {} ms", channel, delay);
    vertx.setTimer(delay, t -> start());
  }
}
