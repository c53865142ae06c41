package io.mpcsfaas.api;

import io.mpcsfaas.config.ApiConfig;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's single failure path: every error becomes a JSON {@code {"error": ...}} with its status, and
 * {@code "retry_safe": true} when nothing of the request was stored (sending it again makes no second task):
 * a refusal before storing, or a read whose storage failed.
 */
final class ErrorResponses {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

  private ErrorResponses() {}

  /** {@code bodyLimit}: the largest body the router takes, named in the 413 of a larger one. */
  static void install(Router router, long bodyLimit) {
    String tooLarge = "request body too large: the API takes at most " + bodyLimit + " bytes ("
        + mebibytes(bodyLimit) + "); raise it with --body-limit (api.body_limit), up to "
        + mebibytes(ApiConfig.MAX_BODY_LIMIT);
    router.route().failureHandler(ctx -> fail(ctx, tooLarge));
    router.errorHandler(404, ctx -> send(ctx, 404, "no such route: " + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(405, ctx -> send(ctx, 405, "method " + ctx.request().method() + " not allowed on " + ctx.request().path()));
    // Refusals Vert.x makes before any route runs (a malformed %-escape in the URL, and the like)
    for (int status : new int[] {400, 413, 414, 415, 431}) {
      router.errorHandler(status, ctx -> send(ctx, status, status == 400 ? "malformed request (check the URL's %-escapes)"
          : status == 413 ? tooLarge : "request refused (HTTP " + status + ")"));
    }
  }

  /**
   * Runs {@code answer}, which ends the response. An OutOfMemoryError on the way (a big body built once Redis
   * replied, in a callback) becomes the failure handler's 503: thrown from a callback it reached no handler, and
   * the request stayed unanswered until its client gave up. A response already under way is reset instead.
   */
  static void answer(RoutingContext ctx, Runnable answer) {
    try {
      answer.run();
    } catch (OutOfMemoryError e) {
      if (ctx.response().headWritten()) {
        ctx.response().reset();
      } else {
        ctx.fail(e);
      }
    }
  }

  private static String mebibytes(long bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : String.format("%.1f MiB", bytes / 1048576.0);
  }

  private static void fail(RoutingContext ctx, String tooLarge) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiError error) {
      if (error.retryLater) {
        askToRetry(ctx);
      }
      JsonObject body = body(error.getMessage());
      send(ctx, error.status, error.retrySafe ? body.put("retry_safe", true) : body);
    } else if (failure instanceof StorageUnavailableException) {
      if (ctx.request().method() == HttpMethod.GET) {
        // a read stores nothing: the client may send it again (the SDK does), as the storage comes back or, while
        // a big value is copied, the event loops are free again
        askToRetry(ctx);
        send(ctx, 503, body(failure.getMessage()).put("retry_safe", true));
      } else {
        send(ctx, 503, failure.getMessage());
      }
    } else if (failure instanceof OutOfMemoryError) {
      // big bodies at once (four 64 MiB calls at the default heap): the client may try again later
      LOG.warn("out of heap on {} {}", ctx.request().method(), ctx.request().path());
      askToRetry(ctx);
      send(ctx, 503, "the server ran out of memory for this request: send it again later, or give the "
          + "platform more heap (FAAS_JAVA_OPTS, docs/payloads.md)");
    } else if (failure instanceof HttpClosedException) {
      LOG.debug("{} {}: the client closed the connection", ctx.request().method(), ctx.request().path());
    } else if (ctx.statusCode() == 413) {
      send(ctx, 413, tooLarge);
    } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      send(ctx, ctx.statusCode(), "bad request");
    } else {
      LOG.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), failure);
      send(ctx, 500, "internal error");
    }
  }

  private static void askToRetry(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", Integer.toString(ApiVerticle.RETRY_AFTER_SECONDS));
  }

  private static void send(RoutingContext ctx, int status, String message) {
    send(ctx, status, body(message));
  }

  private static JsonObject body(String message) {
    return new JsonObject().put("error", message);
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.toBuffer());
  }
}
