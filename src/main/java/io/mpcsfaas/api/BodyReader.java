package io.mpcsfaas.api;

import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.Base64Text;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Reads a request's body into one buffer of the size its {@code Content-Length} declares, made when its first
 * bytes arrive, where Vert.x's {@code BodyHandler} starts small and grows: past 4 MiB, Netty grows a heap buffer
 * 4 MiB at a time, so an 85 MiB body was copied twenty times and held twice at the last copy, and four 64 MiB
 * calls at once ran the default heap out in the middle of their bodies, failing again on every chunk after
 * (docs/performance.md). A body sent without a length (chunked) grows, up to the same limit. Otherwise it
 * behaves as the BodyHandler it replaces: a 413 for a body over the limit, {@code 100-continue} answered, no body
 * read when none is sent. A big body must also fit the {@link BodyBudget} (a chunked one as it grows), or gets a
 * 503, and one whose client stops sending gets a 408 and its connection closed after {@link #STALL_MILLIS}. A
 * pickle body of a declared length that is stored in pieces is not read into the heap at all but stored as it
 * arrives ({@link PickleUpload}).
 */
final class BodyReader implements Handler<RoutingContext> {
  /** A big or chunked body whose client sends nothing for this long is given up: it holds heap and budget. */
  static final long STALL_MILLIS = 30_000;
  private static final int UNKNOWN_LENGTH_START = 1024;

  private final long limit;
  private final BodyBudget budget;
  private final TaskStore store;
  private final long storeTimeoutMillis;
  private final long stallMillis;

  /** Big pickle bodies go to {@code store}, each piece's write failing after {@code storeTimeoutMillis} and more. */
  BodyReader(long limit, BodyBudget budget, TaskStore store, long storeTimeoutMillis) {
    this(limit, budget, store, storeTimeoutMillis, STALL_MILLIS);
  }

  BodyReader(long limit, BodyBudget budget, TaskStore store, long storeTimeoutMillis, long stallMillis) {
    this.limit = limit;
    this.budget = budget;
    this.store = store;
    this.storeTimeoutMillis = storeTimeoutMillis;
    this.stallMillis = stallMillis;
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
    Read read = new Read(ctx, length, PickleBody.sent(ctx));
    if (read.refusedAt(length)) {
      return;
    }
    if (!read.reserve(length)) {
      return;
    }
    String expect = request.getHeader(HttpHeaders.EXPECT);
    if (expect != null) {
      if (!"100-continue".equalsIgnoreCase(expect)) {
        read.fail(417);
        return;
      }
      if (request.version() != HttpVersion.HTTP_1_0) {
        ctx.response().writeContinue();
      }
    }
    read.start();
  }

  /** One request's body on its way in: its buffer, made at its first bytes, or its upload. */
  private final class Read {
    private final RoutingContext ctx;
    private final long length;
    /** A pickle body ({@link PickleBody}), stored as the base64 text it becomes. */
    private final boolean pickle;
    /** Where a big pickle body of a declared length goes instead of {@link #body}. */
    private final PickleUpload upload;
    private Buffer body;
    private long received;
    private boolean failed;
    /** When the last bytes came; kept only while the stall timer runs. */
    private long lastChunk;
    private long stallTimer = -1;

    Read(RoutingContext ctx, long length, boolean pickle) {
      this.ctx = ctx;
      this.length = length;
      this.pickle = pickle;
      long stored = Base64Text.encodedLength(length); // as a pickle body is stored
      if (pickle && store.inPieces(stored) && length <= PickleBody.MAX_LENGTH && length <= limit) {
        String taskId = TaskStore.newTaskId();
        upload = new PickleUpload(ctx, taskId, store.upload(taskId, stored), storeTimeoutMillis, this::fail);
      } else {
        upload = null;
      }
    }

    /** True, with the 413 sent, when a body of {@code bytes} is longer than this request may be. */
    boolean refusedAt(long bytes) {
      if (bytes > limit) {
        fail(413);
      } else if (pickle && bytes > PickleBody.MAX_LENGTH) {
        fail(new ApiError(413, PickleBody.TOO_LONG));
      } else {
        return false;
      }
      return true;
    }

    /**
     * Reserves what a body of {@code bytes} holds (a declared length up front, a chunked body as it grows); false,
     * with the 503 sent, when it does not fit beside the bodies in flight.
     */
    boolean reserve(long bytes) {
      long needed = upload != null ? upload.heapBytes() : BodyBudget.bytesFor(bytes, pickle);
      if (needed == 0 || budget.hold(ctx).atLeast(needed)) {
        return true;
      }
      fail(ApiError.retrySafely(503, "the server is busy with other big requests (their bodies may hold "
          + (budget.capacity() >> 20) + " MiB of heap at once): send this one again later, or give the "
          + "platform more heap (FAAS_JAVA_OPTS, docs/payloads.md)"));
      return false;
    }

    void start() {
      HttpServerRequest request = ctx.request();
      if (length < 0 || length >= HeapBudget.BIG) {
        lastChunk = System.nanoTime();
        stallTimer = ctx.vertx().setPeriodic(stallMillis / 4 + 1, id -> giveUpIfStalled());
      }
      request.handler(this::onChunk);
      request.endHandler(end -> {
        if (failed) {
          return;
        }
        stopTimer();
        if (upload == null) {
          ((RoutingContextInternal) ctx).setBody(body != null ? body : Buffer.buffer(0));
          body = null; // the route may drop it (SubmitBody.release): this read, alive to the end, must not hold it
          ctx.next();
          return;
        }
        upload.end().onComplete(stored -> {
          if (stored.failed()) {
            fail(stored.cause());
          } else if (!failed && !ctx.response().closed()) { // its client gone meanwhile: what it stored goes too
            ((RoutingContextInternal) ctx).setBody(Buffer.buffer(0));
            ctx.next();
          }
        });
      });
      request.resume();
    }

    private void onChunk(Buffer chunk) {
      if (stallTimer >= 0) {
        lastChunk = System.nanoTime();
      }
      received += chunk.length();
      if (refusedAt(received) || length < 0 && !reserve(received * 2)) { // chunked: reserved ahead, for twice
        return;
      }
      try {
        if (upload != null) {
          upload.add(chunk);
          return;
        }
        if (body == null) {
          body = Buffer.buffer(length >= 0 ? (int) length : Math.max(chunk.length(), UNKNOWN_LENGTH_START));
        }
        body.appendBuffer(chunk); // grows only when no length was declared
      } catch (OutOfMemoryError | ApiError e) {
        fail(e); // out of heap: a 503 that asks the client to come back; a body that is no pickle: a 400
      }
    }

    private void giveUpIfStalled() {
      if (System.nanoTime() - lastChunk > stallMillis * 1_000_000) {
        HttpServerRequest request = ctx.request();
        ctx.addEndHandler(end -> request.connection().close()); // its client may never send the rest
        fail(new ApiError(408, "the request's body stopped arriving: nothing came for "
            + stallMillis / 1000 + " s"));
      }
    }

    void fail(int status) {
      stop();
      ctx.fail(status);
    }

    void fail(Throwable cause) {
      if (!failed) {
        stop();
        ctx.fail(cause);
      }
    }

    /**
     * Drops what arrived, and reads and drops what is still to come: the client sends the whole body before it
     * reads the answer (as Python's requests does), and its connection may be kept for the next request.
     */
    private void stop() {
      failed = true;
      stopTimer();
      body = null;
      HttpServerRequest request = ctx.request();
      if (!request.isEnded()) { // an upload fails after the end too, and an ended request takes no handler
        request.handler(chunk -> {}).resume();
      }
    }

    private void stopTimer() {
      if (stallTimer >= 0) {
        ctx.vertx().cancelTimer(stallTimer);
        stallTimer = -1;
      }
    }
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
