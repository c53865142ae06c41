package io.mpcsfaas.api;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Reads a request's body into one buffer of the size its {@code Content-Length} declares, where Vert.x's
 * {@code BodyHandler} starts small and grows: past 4 MiB, Netty grows a heap buffer 4 MiB at a time, so an
 * 85 MiB body was copied twenty times and held twice at the last copy, and four 64 MiB calls at once ran the
 * default heap out in the middle of their bodies, failing again on every chunk after (docs/performance.md). A body
 * sent without a length (chunked) still grows, up to the same limit. Otherwise it behaves as the BodyHandler it
 * replaces: a 413 for a body over the limit, {@code 100-continue} answered, no body read when none is sent. A big
 * body must also fit the {@link BodyBudget}, or gets a 503 before it is read.
 */
final class BodyReader implements Handler<RoutingContext> {
  private static final int UNKNOWN_LENGTH_START = 64 * 1024;

  private final long limit;
  private final BodyBudget budget;

  BodyReader(long limit, BodyBudget budget) {
    this.limit = limit;
    this.budget = budget;
  }

  @Override
  public void handle(RoutingContext ctx) {
    RoutingContextInternal internal = (RoutingContextInternal) ctx;
    if (internal.seenHandler(RoutingContextInternal.BODY_HANDLER)) {
      ctx.next();
      return;
    }
    internal.visitHandler(RoutingContextInternal.BODY_HANDLER); // ctx.body() is available from here on
    HttpServerRequest request = ctx.request();
    long length = contentLength(request);
    if (length < 0 && request.version() != HttpVersion.HTTP_2
        && !request.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      ctx.next(); // no body
      return;
    }
    if (length > limit) {
      drop(request);
      ctx.fail(413);
      return;
    }
    long reserved = BodyBudget.bytesFor(length);
    if (reserved > 0) {
      if (!budget.reserve(reserved)) {
        drop(request);
        ctx.response().putHeader("Retry-After", Integer.toString(ApiVerticle.RETRY_AFTER_SECONDS));
        ctx.fail(new ApiError(503, "the server is busy with other big requests (their bodies may hold "
            + (budget.capacity() >> 20) + " MiB of heap at once): send this one again later, or give the "
            + "platform more heap (FAAS_JAVA_OPTS, docs/payloads.md)"));
        return;
      }
      ctx.addEndHandler(end -> budget.release(reserved));
    }
    String expect = request.getHeader(HttpHeaders.EXPECT);
    if (expect != null) {
      if (!"100-continue".equalsIgnoreCase(expect)) {
        drop(request);
        ctx.fail(417);
        return;
      }
      if (request.version() != HttpVersion.HTTP_1_0) {
        ctx.response().writeContinue();
      }
    }
    Buffer body;
    try {
      body = Buffer.buffer(length >= 0 ? (int) length : UNKNOWN_LENGTH_START);
    } catch (OutOfMemoryError e) {
      drop(request);
      ctx.fail(e); // a 503 that asks the client to come back
      return;
    }
    boolean[] failed = {false};
    request.handler(chunk -> {
      if (failed[0]) {
        return;
      }
      if (body.length() + (long) chunk.length() > limit) {
        failed[0] = true;
        ctx.fail(413);
        return;
      }
      try {
        body.appendBuffer(chunk); // grows only when no length was declared
      } catch (OutOfMemoryError e) {
        failed[0] = true;
        ctx.fail(e);
      }
    });
    request.endHandler(end -> {
      if (!failed[0]) {
        internal.setBody(body);
        ctx.next();
      }
    });
    request.resume();
  }

  /**
   * Reads the body of a refused request and drops it: its client sends the whole body before it reads the answer
   * (as Python's requests does), and its connection may be kept for the next request.
   */
  private static void drop(HttpServerRequest request) {
    request.handler(chunk -> {}).resume();
  }

  /** The declared length, or -1 when there is none (or it is not a number, which Netty refuses before this). */
  private static long contentLength(HttpServerRequest request) {
    String value = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
