package io.mpcsfaas.bench;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.Environments;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.worker.TaskPool;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The pool of a simulated peer: every task ends at once, so what is measured is the platform's cost alone. A
 * task whose arguments are one whole number ({@code ./faas bench}'s noop workload) returns it, as the noop
 * function would; any other returns None. Both are the exact text a worker sends: base64 of the dill pickle, without
 * line breaks (worker.Interpreter encodes what the Python runner pickled).
 */
final class InstantPool implements TaskPool {
  /** {@code base64.b64encode(dill.dumps(None))}. */
  static final String NONE = "gAROLg==";
  /** Pickle protocol 4 header, and its framing opcode that precedes pickles of 4 bytes or more. */
  private static final byte PROTO = (byte) 0x80;
  private static final byte FRAME = (byte) 0x95;
  /** {@code dill.dumps(((x,), {}))} after the argument x: TUPLE1 MEMOIZE EMPTY_DICT MEMOIZE TUPLE2 MEMOIZE STOP. */
  private static final byte[] ONE_ARG_TAIL = {(byte) 0x85, (byte) 0x94, '}', (byte) 0x94, (byte) 0x86, (byte) 0x94, '.'};

  /** A peer's pool, of as many slots as setting {@code workers} says. */
  static final TaskPool.Starter STARTER = (vertx, conf) -> Future.succeededFuture(
      new InstantPool(Conf.integer(conf, "workers")));

  private final int slots;

  private InstantPool(int slots) {
    this.slots = slots;
  }

  @Override
  public Future<TaskOutcome> run(TaskSpec task) {
    return Future.succeededFuture(TaskOutcome.success(echo(task.argsPayload())));
  }

  /**
   * The pickle of x when {@code args} is the pickle of {@code ((x,), {})} with x a BININT1, BININT2 or BININT
   * (what dill writes for 0 <= x < 2^31), else {@link #NONE}.
   */
  static String echo(String args) {
    byte[] in;
    try {
      in = Base64.getMimeDecoder().decode(args);
    } catch (IllegalArgumentException e) {
      return NONE;
    }
    int start = 11; // PROTO 4 FRAME <8-byte length>
    if (in.length < start + 1 + ONE_ARG_TAIL.length || in[0] != PROTO || in[1] != 4 || in[2] != FRAME) {
      return NONE;
    }
    int width = switch (in[start]) {
      case 'K' -> 1;
      case 'M' -> 2;
      case 'J' -> 4;
      default -> -1;
    };
    int end = start + 1 + width;
    if (width < 0 || in.length != end + ONE_ARG_TAIL.length
        || !Arrays.equals(Arrays.copyOfRange(in, end, in.length), ONE_ARG_TAIL)) {
      return NONE;
    }
    byte[] value = Arrays.copyOfRange(in, start, end); // opcode and argument
    int body = value.length + 1; // and STOP
    ByteBuffer out = ByteBuffer.allocate(2 + (body >= 4 ? 9 : 0) + body).order(ByteOrder.LITTLE_ENDIAN);
    out.put(PROTO).put((byte) 4);
    if (body >= 4) { // pickle frames only what is 4 bytes or more
      out.put(FRAME).putLong(body);
    }
    out.put(value).put((byte) '.');
    return Base64.getEncoder().encodeToString(out.array());
  }

  @Override
  public Set<String> names() {
    return Set.of(Environments.DEFAULT);
  }

  @Override
  public int size() {
    return slots;
  }

  @Override
  public int room() {
    return slots;
  }

  @Override
  public void onRoom(Runnable listener) {
    // room never changes
  }

  @Override
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    // it prints nothing
  }

  @Override
  public void cancel(String taskId) {
    // every task has ended before a cancel can reach it
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
