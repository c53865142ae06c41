package io.mpcsfaas.api;

import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.ArgumentUpload;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.store.TransferTime;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A pickle body ({@link PickleBody}) of a declared length longer than a stored piece (16 MiB of base64), stored in
 * Redis as it arrives, piece by piece ({@link ArgumentUpload}): the request holds a piece where, read whole first,
 * a 64 MiB body reserved four copies of its 85 MiB of base64, and four such calls at {@code -Xmx512m} were let in
 * one at a time. The body is paused while a piece is written, so a client sends as fast as Redis stores. A body
 * of one piece or less is read as before: it reserves no more that way, and a dispatcher in the same JVM takes
 * its arguments from memory (Handover), not from Redis. The task is created from what was stored
 * ({@link TaskStore.NewTask#uploaded}, by {@link #take}); a request that ends otherwise (refused, failed, its
 * client gone) deletes it.
 */
final class PickleUpload {
  private static final String KEY = "mpcsfaas.upload";

  private final RoutingContext ctx;
  private final ArgumentUpload stored;
  private final long timeoutMillis;
  private final String taskId;
  private final Consumer<Throwable> onFailure;
  private final OutputStream encoder = Base64.getEncoder().wrap(new Pieces());
  /** The piece being filled, the {@code pieces}-th: null until its first bytes. */
  private byte[] piece;
  private int pieces;
  private int filled;
  /** The pieces written so far, in turn: each is sent once the one before is stored. */
  private Future<Void> written;
  private int writing;
  private boolean ended;
  private boolean taken;
  /** Its request ended before its task was created from it: what it stored is deleted. */
  private boolean abandoned;
  private boolean failed;
  private int first = -1;
  private int second = -1;
  private int last = -1;

  /**
   * The upload of {@code ctx}'s body for a task of id {@code taskId}; a piece's write that fails (or takes
   * longer than {@code timeoutMillis} and its transfer time) goes to {@code onFailure}, and no more are sent.
   */
  PickleUpload(RoutingContext ctx, String taskId, ArgumentUpload stored, long timeoutMillis,
      Consumer<Throwable> onFailure) {
    this.ctx = ctx;
    this.taskId = taskId;
    this.stored = stored;
    this.timeoutMillis = timeoutMillis;
    this.onFailure = onFailure;
    this.written = Future.succeededFuture();
    ctx.addEndHandler(end -> {
      if (!taken) {
        abandoned = true; // its client gone while the last piece was written: the route must not create it
        stored.abandon();
      }
    });
  }

  /** The heap the upload holds at once: the piece filled, the piece written and the Redis client's copy of it. */
  long heapBytes() {
    return HeapBudget.bytesFor(stored.pieceLength(0));
  }

  /** The upload {@code ctx}'s body went to, or null: its body was read as usual. */
  static PickleUpload of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /** The id of the task to create from it, which from then on keeps what was stored. */
  String take() {
    if (abandoned) {
      throw new IllegalStateException("the upload of task " + taskId + " was abandoned: its request ended");
    }
    taken = true;
    return taskId;
  }

  /** Encodes the body's next bytes, sending each piece once full; a 400 as soon as it opens unlike a pickle. */
  void add(Buffer chunk) {
    ByteBuf bytes = ((BufferInternal) chunk).getByteBuf();
    int length = bytes.readableBytes();
    if (length == 0) {
      return;
    }
    int at = bytes.readerIndex();
    if (first < 0) {
      first = bytes.getUnsignedByte(at);
      checkOpening(length > 1 ? bytes.getUnsignedByte(at + 1) : -1);
    } else if (second < 0) {
      checkOpening(bytes.getUnsignedByte(at));
    }
    last = bytes.getUnsignedByte(at + length - 1);
    try {
      bytes.getBytes(at, encoder, length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void checkOpening(int next) {
    second = next;
    if (second >= 0 && PicklePayload.shapeProblem(first, second, PicklePayload.STOP) != null) {
      throw ApiError.badRequest(PickleBody.NOT_PICKLE);
    }
  }

  /**
   * Stores the last piece once all came: completes, with the upload on {@code ctx} for the route, when all is
   * stored and the body is a pickle's.
   */
  Future<Void> end() {
    ended = true;
    try {
      encoder.close(); // the padding, and the last piece
    } catch (IOException | ApiError e) {
      return Future.failedFuture(e);
    }
    if (pieces != stored.pieces() || piece != null) { // Netty holds a body to its Content-Length: never, so far
      return Future.failedFuture(ApiError.badRequest("the body is shorter than its Content-Length"));
    }
    return written.compose(done -> {
      if (PicklePayload.shapeProblem(first, second, last) != null) {
        return Future.failedFuture(ApiError.badRequest(PickleBody.NOT_PICKLE));
      }
      ctx.put(KEY, this);
      return Future.succeededFuture();
    });
  }

  private void send(byte[] full) {
    if (writing++ == 0 && !ended) {
      ctx.request().pause();
    }
    long timeout = TransferTime.millis(timeoutMillis, full.length);
    written = written.compose(done -> stored.write(full).timeout(timeout, TimeUnit.MILLISECONDS)
        .recover(cause -> Future.failedFuture(ApiError.retrySafely(503, "storage unavailable while the body "
            + "was stored: " + cause.getMessage()))));
    written.onComplete(done -> {
      writing--;
      if (done.failed() && !failed) {
        failed = true;
        onFailure.accept(done.cause());
      } else if (writing == 0 && !ended && !failed) {
        ctx.request().resume();
      }
    });
  }

  /** Gathers the base64 into pieces of the length the store takes, each sent once full. */
  private final class Pieces extends OutputStream {
    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        if (piece == null) {
          if (pieces == stored.pieces()) {
            throw ApiError.badRequest("the body is longer than its Content-Length");
          }
          piece = new byte[stored.pieceLength(pieces++)];
        }
        int n = Math.min(len, piece.length - filled);
        System.arraycopy(b, off, piece, filled, n);
        filled += n;
        off += n;
        len -= n;
        if (filled == piece.length) {
          byte[] full = piece;
          piece = null;
          filled = 0;
          send(full);
        }
      }
    }
  }
}
