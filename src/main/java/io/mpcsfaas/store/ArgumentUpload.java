package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;

/**
 * A task's arguments stored piece by piece as they arrive, before the task is created (as a
 * {@link TaskStore.NewTask#uploaded}): a big request body is then never whole in the heap. Pieces are as
 * {@link LargeValues} stores them; the first is written with their count and the expiry of arguments whose task is
 * never created ({@link LargeValues#ORPHAN_SECONDS}), which the creation script removes.
 */
public final class ArgumentUpload {
  private static final String FIELD = "payload";

  private final Redis redis;
  private final String key;
  private final long length;
  private final int piece;
  private final int pieces;
  private int written;

  ArgumentUpload(Redis redis, String key, long length, int piece) {
    this.redis = redis;
    this.key = key;
    this.length = length;
    this.piece = piece;
    this.pieces = (int) Math.max(1, (length + piece - 1) / piece);
  }

  /** The length of piece {@code i} (from 0): a whole piece but for the last. */
  public int pieceLength(int i) {
    return (int) Math.min(piece, length - (long) i * piece);
  }

  /** Writes the next piece, {@link #pieceLength} bytes of base64; called again only once it succeeded. */
  public Future<Void> write(byte[] bytes) {
    if (written == pieces || bytes.length != pieceLength(written)) {
      throw new IllegalArgumentException("piece " + written + " of " + key + " (" + pieces + " in all) is "
          + pieceLength(written) + " bytes long, not " + bytes.length);
    }
    Request write = LargeValues.pieceWrite(key, FIELD, written, pieces, bytes);
    Future<?> sent = written == 0
        ? redis.batch(List.of(write, Request.cmd(Command.EXPIRE).arg(key).arg(LargeValues.ORPHAN_SECONDS)))
        : redis.send(write);
    written++;
    return sent.mapEmpty();
  }

  /** Deletes what was written: its task will not be created (best effort; left behind, it expires). */
  public void abandon() {
    if (written > 0) {
      redis.send(Request.cmd(Command.DEL).arg(key));
    }
  }
}
