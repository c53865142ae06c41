package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Task payloads and results over {@value #INLINE} bytes travel beside the Lua scripts, with plain hash commands:
 * a value passed to a script as an argument is copied into Lua and again by each command that stores it, which
 * for 8 MiB cost Redis 250-450 ms per script where a plain HSET or HGET costs a fraction of it. The scripts keep
 * deciding every state change; only the big value moves outside them, in an order that never exposes a task
 * without it (see TaskStore#create and TaskQueue#finish). Lua's side of the threshold is written as the same
 * number in start_tasks.lua.
 *
 * <p>A value longer than a piece ({@link #PIECE}) is stored in pieces, in fields of the same hash (so that it
 * expires and is deleted with its task): the field itself holds the first piece and {@code FIELD_pieces} their
 * count, {@code FIELD_1}, {@code FIELD_2}... the others. Each piece is a command and a reply of its own. The Redis
 * client (Vert.x) refuses a reply over 512 MiB, so a value stored whole past that could never be read back; values
 * an older version stored in pieces of 256 MiB read the same way. pieces.lua drops a value's pieces in the scripts.
 */
final class LargeValues {
  static final int INLINE = 65536;
  /**
   * The longest piece of a stored value. Redis handles each piece as a command of its own, answering other
   * clients between them, and the JVM encodes one piece's request at a time: with two clients echoing 32 MiB,
   * small reads waited up to 0.6-1.5 s behind values stored whole, 0.5-0.7 s behind pieces of 16 MiB
   * (docs/performance.md). A value up to 16 MiB (an 8 MiB argument's base64 among them) stays whole.
   */
  static final int PIECE = 16 << 20;
  /**
   * How long a payload written ahead of its creation script lives when that script never runs (the API died
   * between the two): the script makes it permanent when it creates the task.
   */
  static final long ORPHAN_SECONDS = 3600;

  private LargeValues() {}

  static boolean large(String value) {
    return value.length() > INLINE;
  }

  /**
   * Sends the writes of big values, then the script once they succeeded; the script alone when there are none,
   * not composed on Future.succeededFuture(): that future has no context, nor has what is composed on it, and
   * a timeout set on such a future (the API's on every creation call, the dispatcher's on every finish call) is
   * a timer on Netty's global thread, woken twice per call.
   */
  static <T> Future<T> writeFirst(Redis redis, List<Request> writes, Supplier<Future<T>> script) {
    return writes.isEmpty() ? script.get() : redis.batch(writes).compose(written -> script.get());
  }

  /** How many pieces a value {@code length} characters long is stored in, pieces of at most {@code piece}. */
  static int pieces(long length, int piece) {
    return (int) Math.max(1, (length + piece - 1) / piece);
  }

  /** The {@code i}-th piece of {@code value} (from 0). */
  static String piece(String value, int i, int piece) {
    return value.substring(i * piece, Math.min(value.length(), (i + 1) * piece));
  }

  /** The field that counts the pieces of {@code field}'s value (absent when it is stored whole). */
  static String countField(String field) {
    return field + "_pieces";
  }

  private static String pieceField(String field, int i) {
    return field + "_" + i;
  }

  /**
   * The write of the first piece of {@code value} as {@code field} of {@code key}, with the count of its pieces
   * when it has others ({@link #otherPieces} writes them).
   */
  static Request firstPiece(String key, String field, String value, int piece) {
    return withCount(Request.cmd(Command.HSET).arg(key).arg(field).arg(piece(value, 0, piece)), field,
        pieces(value.length(), piece));
  }

  /** The write of piece {@code i} (from 0) of a value of {@code pieces}, the first with their count. */
  static Request pieceWrite(String key, String field, int i, int pieces, byte[] bytes) {
    Request write = Request.cmd(Command.HSET).arg(key).arg(i == 0 ? field : pieceField(field, i)).arg(bytes);
    return i == 0 ? withCount(write, field, pieces) : write;
  }

  private static Request withCount(Request first, String field, int pieces) {
    return pieces == 1 ? first : first.arg(countField(field)).arg(pieces);
  }

  /**
   * The writes of the pieces of {@code value} after the first (none when it is one piece), each made when it is
   * sent: sent {@link #inTurn}, the heap holds the copies of one piece at a time, not of all.
   */
  static List<Supplier<Future<Void>>> otherPieces(Redis redis, String key, String field, String value, int piece) {
    List<Supplier<Future<Void>>> writes = new ArrayList<>();
    for (int i = 1; i < pieces(value.length(), piece); i++) {
      int at = i;
      writes.add(() -> redis.send(Request.cmd(Command.HSET).arg(key).arg(pieceField(field, at))
          .arg(piece(value, at, piece))).mapEmpty());
    }
    return writes;
  }

  /** Sends {@code writes} one after the other, then the script once they succeeded; the script alone when none. */
  static <T> Future<T> inTurn(List<Supplier<Future<Void>>> writes, Supplier<Future<T>> script) {
    Future<Void> written = null;
    for (Supplier<Future<Void>> write : writes) {
      written = written == null ? write.get() : written.compose(v -> write.get());
    }
    return written == null ? script.get() : written.compose(v -> script.get());
  }

  /**
   * The length of {@code field}'s value stored in {@code count} pieces, the first {@code first} long, its other
   * pieces' lengths read now.
   */
  static Future<Long> length(Redis redis, String key, String field, Response count, long first) {
    List<Request> lengths = new ArrayList<>();
    for (int i = 1; i < count.toInteger(); i++) {
      lengths.add(Request.cmd(Command.HSTRLEN).arg(key).arg(pieceField(field, i)));
    }
    return redis.batch(lengths).map(others -> first + others.stream().mapToLong(Response::toLong).sum());
  }

  /** A read of {@code field} of {@code key}: its first piece and its count of pieces, for {@link #whole}. */
  static Request read(String key, String field) {
    return Request.cmd(Command.HMGET).arg(key).arg(field).arg(countField(field));
  }

  /**
   * The value whose first piece and count were read ({@code count} null: stored whole, or absent when
   * {@code first} is null too), its other pieces read now, each in a reply of its own and copied at once into one
   * array sized from their lengths: Redis answers other clients between pieces, and the heap holds one piece's
   * reply at a time beside the array. Null when the task was deleted between the reads; a failure when the value
   * changed meanwhile (a task that ran again).
   */
  static Future<String> whole(Redis redis, String key, String field, Response first, Response count) {
    return first == null || count == null ? whole(redis, key, field, first, count, 0)
        : length(redis, key, field, count, first.toBuffer().length())
            .compose(total -> whole(redis, key, field, first, count, total));
  }

  /** {@link #whole} of a value whose length in all, {@code total}, is known already (a length read earlier). */
  static Future<String> whole(Redis redis, String key, String field, Response first, Response count, long total) {
    if (first == null || count == null) {
      return Future.succeededFuture(first == null ? null : first.toString());
    }
    Buffer head = first.toBuffer();
    if (head.length() > total) {
      return changed(key, field);
    }
    byte[] joined = new byte[Math.toIntExact(total)];
    head.getBytes(joined, 0);
    Future<Integer> filled = Future.succeededFuture(head.length());
    for (int i = 1; i < count.toInteger(); i++) {
      Request next = Request.cmd(Command.HGET).arg(key).arg(pieceField(field, i));
      filled = filled.compose(at -> at == null ? reached(null) : redis.send(next).compose(piece -> {
        if (piece == null) {
          return reached(null);
        }
        Buffer bytes = piece.toBuffer();
        if (at + bytes.length() > joined.length) {
          return changed(key, field);
        }
        bytes.getBytes(joined, at);
        return reached(at + bytes.length());
      }));
    }
    return filled.compose(end -> end == null ? Future.succeededFuture()
        : end == joined.length ? Future.succeededFuture(new String(joined, StandardCharsets.ISO_8859_1)) // base64
        : changed(key, field));
  }

  private static <T> Future<T> changed(String key, String field) {
    return Future.failedFuture(new IllegalStateException(key + " " + field + " changed while it was read"));
  }

  /** How far the array is filled (null: a piece was gone). */
  private static Future<Integer> reached(Integer end) {
    return Future.succeededFuture(end);
  }
}
