package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;

/**
 * A task's arguments stored piece by piece as they arrive, before the task is created (as a
 * {@link TaskStore.NewTask#uploaded}): a big request body is then never whole in the heap. Pieces are as
 * {@link LargeValues} stores them, each written with the expiry of arguments whose task is never created
 * ({@link LargeValues#ORPHAN_SECONDS}), which the creation script removes.
 */
public final class ArgumentUpload {
  private static final String FIELD = "payload";

  private final Redis redis;
  private final String key;
  private final long length;
  private final int piece;
  private final int pieces;
  private int written;
  /** The last write sent, settled or not: what is deleted must not be written after. */
  private Future<?> last = Future.succeededFuture();
  private boolean abandoned;

  ArgumentUpload(Redis redis, String key, long length, int piece) {
    this.redis = redis;
    this.key = key;
    this.length = length;
    this.piece = piece;
    this.pieces = LargeValues.pieces(length, piece);
  }

  /** How many pieces the value is stored in. */
  public int pieces() {
    return pieces;
  }

  /** The length of piece {@code i} (from 0): a whole piece but for the last. */
  public int pieceLength(int i) {
    return (int) Math.min(piece, length - (long) i * piece);
  }

  /**
   * Writes the next piece, {@link #pieceLength} bytes of base64; called again only once it succeeded. Fails once
   * the upload is abandoned.
   */
  public Future<Void> write(byte[] bytes) {
    if (written == pieces || bytes.length != pieceLength(written)) {
      throw new IllegalArgumentException("piece " + written + " of " + key + " (" + pieces + " in all) is "
          + pieceLength(written) + " bytes long, not " + bytes.length);
    }
    if (abandoned) {
      return Future.failedFuture(new IllegalStateException(key + ": its upload was abandoned"));
    }
    // each piece with the expiry: one written however late (after a timeout) must not stay for good
    Future<?> sent = redis.batch(List.of(LargeValues.pieceWrite(key, FIELD, written, pieces, bytes),
        Request.cmd(Command.EXPIRE).arg(key).arg(LargeValues.ORPHAN_SECONDS)));
    written++;
    last = sent;
    return sent.mapEmpty();
  }

  /**
   * Deletes what was written, once the last write sent has settled (it may outlive its caller's timeout), and
   * refuses any write after: its task will not be created. Best effort: left behind, it expires.
   */
  public void abandon() {
    abandoned = true;
    if (written > 0) {
      last.onComplete(settled -> redis.send(Request.cmd(Command.DEL).arg(key)));
    }
  }
}
