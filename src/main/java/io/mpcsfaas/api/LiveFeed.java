package io.mpcsfaas.api;

import io.mpcsfaas.store.FunctionStats;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.PlatformStats;
import io.mpcsfaas.store.Presence;
import io.mpcsfaas.store.Tenant;
import io.mpcsfaas.store.TenantStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Redis;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events}: the dashboard's live feed, as Server-Sent Events. One gather a second per API process and
 * audience (the admins, or one tenant), and only while a page listens: read from Redis once, encoded once and
 * written to every open page of that audience, so ten pages cost about what one does. Everything here runs on
 * the API verticle's event loop.
 */
final class LiveFeed {
  private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);
  static final long PERIOD_MILLIS = 1000;
  /** The newest functions whose figures each event carries. */
  static final int FUNCTIONS = 50;

  /** The open pages of one audience, and what its last gather found. */
  private static final class Audience {
    final Tenant viewer;
    final Set<HttpServerResponse> pages = new LinkedHashSet<>();
    /** The last event, sent at once to a page that connects. */
    Buffer last;
    /** The gather before, of the platform (admins) or of the tenant; null after a failure. */
    PlatformStats previousPlatform;
    TenantStats previousTenant;
    long previousNanos;

    Audience(Tenant viewer) {
      this.viewer = viewer;
    }
  }

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final Presence presence;
  /** By tenant name; "" for the admins, who all see the same. */
  private final Map<String, Audience> audiences = new LinkedHashMap<>();
  private long timer = -1;
  private boolean gathering;

  LiveFeed(Vertx vertx, Redis redis, Keys keys, Presence presence) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.presence = presence;
  }

  /** Opens the stream to one page, with the figures its caller may see; it stays open until the page goes away. */
  void handle(RoutingContext ctx) {
    Tenant viewer = BearerKeyHandler.caller(ctx);
    Audience audience = audiences.computeIfAbsent(key(viewer), k -> new Audience(viewer));
    HttpServerResponse response = ctx.response().setChunked(true)
        .putHeader("content-type", "text/event-stream; charset=utf-8").putHeader("cache-control", "no-cache");
    response.write("retry: 2000\n\n");
    if (audience.last != null) {
      response.write(audience.last);
    }
    audience.pages.add(response);
    response.closeHandler(v -> leave(audience, response));
    response.exceptionHandler(err -> leave(audience, response));
    if (timer == -1) {
      timer = vertx.setPeriodic(PERIOD_MILLIS, t -> gather());
      gather();
    }
  }

  /** Ends every stream (the API stops). */
  void close() {
    stopGathering();
    for (Audience audience : audiences.values()) {
      new ArrayList<>(audience.pages).forEach(HttpServerResponse::end);
    }
    audiences.clear();
  }

  private void leave(Audience audience, HttpServerResponse response) {
    audience.pages.remove(response);
    if (audience.pages.isEmpty()) {
      audiences.values().remove(audience);
    }
    if (audiences.isEmpty()) {
      stopGathering();
    }
  }

  private void stopGathering() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void gather() {
    if (gathering) {
      return; // Redis is slower than the period: skip a beat rather than pile up reads
    }
    gathering = true;
    long started = System.nanoTime();
    List<Audience> listening = new ArrayList<>(audiences.values());
    Future<List<JsonObject>> dispatchers = bounded(presence.liveDispatchers());
    List<Future<JsonObject>> events = listening.stream()
        .map(audience -> dispatchers.compose(found -> event(audience, found, started))).toList();
    Future.join(events).onComplete(done -> {
      gathering = false;
      for (int i = 0; i < listening.size(); i++) {
        Audience audience = listening.get(i);
        Future<JsonObject> event = events.get(i);
        if (event.failed()) {
          LOG.debug("the feed's gather failed: {}", event.cause().toString());
          audience.previousPlatform = null;
          audience.previousTenant = null;
        }
        if (audiences.get(key(audience.viewer)) == audience) { // its pages may all have left meanwhile
          broadcast(audience, event.succeeded() ? event.result() : FeedEvent.unavailable(now(), event.cause()));
        }
      }
    });
  }

  /** The audience's event from what Redis holds now and what its gather before found. */
  private Future<JsonObject> event(Audience audience, List<JsonObject> dispatchers, long started) {
    Tenant viewer = audience.viewer;
    Future<List<FunctionStats>> functions = bounded(FunctionStats.newest(redis, keys, viewer, FUNCTIONS));
    double elapsed = (started - audience.previousNanos) / 1e9;
    if (viewer.admin()) {
      Future<PlatformStats> stats = bounded(PlatformStats.read(redis, keys));
      return Future.all(stats, functions).map(v -> {
        JsonObject event = FeedEvent.of(now(), stats.result(), audience.previousPlatform, elapsed, dispatchers,
            functions.result());
        audience.previousPlatform = stats.result();
        audience.previousNanos = started;
        return event;
      });
    }
    Future<TenantStats> stats = bounded(TenantStats.read(redis, keys, viewer.name()));
    return Future.all(stats, functions).map(v -> {
      JsonObject event = FeedEvent.of(now(), stats.result(), audience.previousTenant, elapsed, dispatchers,
          functions.result());
      audience.previousTenant = stats.result();
      audience.previousNanos = started;
      return event;
    });
  }

  private static String key(Tenant viewer) {
    return viewer.admin() ? "" : viewer.name();
  }

  private static double now() {
    return System.currentTimeMillis() / 1000.0;
  }

  private static void broadcast(Audience audience, JsonObject event) {
    Buffer data = Buffer.buffer("data: " + event.encode() + "\n\n");
    audience.last = data;
    for (HttpServerResponse page : audience.pages) {
      if (!page.writeQueueFull()) { // a page that cannot keep up misses a beat instead of growing a queue
        page.write(data);
      }
    }
  }

  private static <T> Future<T> bounded(Future<T> call) {
    return call.timeout(2 * PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }
}
