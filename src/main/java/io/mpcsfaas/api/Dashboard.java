package io.mpcsfaas.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * {@code GET /}: the dashboard page, its script and style under {@code /ui/}, and uPlot (the charts) from its
 * webjar, all in the jar, so the page works offline. The page itself holds no data and loads without the API
 * key; {@code /ui/settings.js} tells it whether to ask for one.
 */
final class Dashboard {
  private Dashboard() {}

  static void install(Router router, boolean keyRequired) {
    Buffer page = Buffer.buffer(ApiDocs.resource("/web/index.html"));
    router.get("/").handler(ctx -> ctx.response().putHeader("content-type", "text/html; charset=utf-8").end(page));
    String settings = "window.FAAS_KEY_REQUIRED = " + keyRequired + ";\n";
    router.get("/ui/settings.js").handler(ctx -> ctx.response()
        .putHeader("content-type", "application/javascript").end(settings));
    router.get("/ui/uplot/*").handler(StaticHandler.create(Webjars.root("org.webjars.npm", "uplot") + "/dist"));
    // The page's own files change with the jar: no caching, so an upgrade is seen on reload.
    router.get("/ui/*").handler(StaticHandler.create("web").setCachingEnabled(false));
  }
}
