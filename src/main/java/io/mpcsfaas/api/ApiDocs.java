package io.mpcsfaas.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /openapi.json} (the OpenAPI 3 document shipped in the jar) and {@code GET /docs}: Swagger UI from
 * its webjar, also in the jar, so the docs work offline. Only its initializer is ours: it points at our
 * document.
 */
final class ApiDocs {
  private static final String INITIALIZER = """
      window.onload = function () {
        window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
      };
      """;

  private ApiDocs() {}

  static void install(Router router) {
    Buffer document = Buffer.buffer(resource("/api/openapi.json"));
    router.get("/openapi.json").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
        .end(document));
    // "/docs" also matches "/docs/", which the static handler serves (index.html)
    router.get("/docs").handler(ctx -> {
      if (ctx.request().path().equals("/docs")) {
        ctx.redirect("/docs/");
      } else {
        ctx.next();
      }
    });
    router.get("/docs/swagger-initializer.js").handler(ctx -> ctx.response()
        .putHeader("content-type", "application/javascript").end(INITIALIZER));
    router.get("/docs/*").handler(StaticHandler.create(Webjars.root("org.webjars", "swagger-ui")));
  }

  /** A file shipped in the jar. */
  static byte[] resource(String path) {
    try (InputStream in = ApiDocs.class.getResourceAsStream(path)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
