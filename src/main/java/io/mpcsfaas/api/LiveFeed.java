package io.mpcsfaas.api;

import io.mpcsfaas.store.FunctionStats;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.PlatformStats;
import io.mpcsfaas.store.Presence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Redis;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events}: the dashboard's live feed, as Server-Sent Events. One gather a second per API process,
 * and only while a page listens: read from Redis once, encoded once and written to every open page, so ten
 * pages cost about what one does. Everything here runs on the API verticle's event loop.
 */
final class LiveFeed {
  private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);
  static final long PERIOD_MILLIS = 1000;
  /** The newest functions whose figures each event carries. */
  static final int FUNCTIONS = 50;

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final Presence presence;
  private final Set<HttpServerResponse> pages = new LinkedHashSet<>();
  private long timer = -1;
  private boolean gathering;
  /** The last event, sent at once to a page that connects. */
  private Buffer last;
  private PlatformStats previous;
  private long previousNanos;

  LiveFeed(Vertx vertx, Redis redis, Keys keys, Presence presence) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.presence = presence;
  }

  /** Opens the stream to one page; it stays open until the page goes away. */
  void handle(RoutingContext ctx) {
    HttpServerResponse response = ctx.response().setChunked(true)
        .putHeader("content-type", "text/event-stream; charset=utf-8").putHeader("cache-control", "no-cache");
    response.write("retry: 2000\n\n");
    if (last != null) {
      response.write(last);
    }
    pages.add(response);
    response.closeHandler(v -> leave(response));
    response.exceptionHandler(err -> leave(response));
    if (timer == -1) {
      previous = null;
      timer = vertx.setPeriodic(PERIOD_MILLIS, t -> gather());
      gather();
    }
  }

  /** Ends every stream (the API stops). */
  void close() {
    stopGathering();
    new ArrayList<>(pages).forEach(HttpServerResponse::end);
    pages.clear();
  }

  private void leave(HttpServerResponse response) {
    pages.remove(response);
    if (pages.isEmpty()) {
      stopGathering();
    }
  }

  private void stopGathering() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    last = null;
  }

  private void gather() {
    if (gathering) {
      return; // Redis is slower than the period: skip a beat rather than pile up reads
    }
    gathering = true;
    long started = System.nanoTime();
    Future<PlatformStats> stats = bounded(PlatformStats.read(redis, keys));
    Future<List<JsonObject>> dispatchers = bounded(presence.liveDispatchers());
    Future<List<FunctionStats>> functions = bounded(FunctionStats.newest(redis, keys, FUNCTIONS));
    Future.all(stats, dispatchers, functions).onComplete(ar -> {
      gathering = false;
      double now = System.currentTimeMillis() / 1000.0;
      JsonObject event;
      if (ar.succeeded()) {
        double elapsed = (started - previousNanos) / 1e9;
        event = FeedEvent.of(now, stats.result(), previous, elapsed, dispatchers.result(), functions.result());
        previous = stats.result();
        previousNanos = started;
      } else {
        LOG.debug("the feed's gather failed: {}", ar.cause().toString());
        event = FeedEvent.unavailable(now, ar.cause());
        previous = null;
      }
      if (timer != -1) {
        broadcast(Buffer.buffer("data: " + event.encode() + "\n\n"));
      }
    });
  }

  private void broadcast(Buffer event) {
    last = event;
    for (HttpServerResponse page : pages) {
      if (!page.writeQueueFull()) { // a page that cannot keep up misses a beat instead of growing a queue
        page.write(event);
      }
    }
  }

  private static <T> Future<T> bounded(Future<T> call) {
    return call.timeout(2 * PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }
}
