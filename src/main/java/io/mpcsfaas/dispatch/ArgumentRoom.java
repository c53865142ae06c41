package io.mpcsfaas.dispatch;

/**
 * The heap that the arguments of big tasks may take at once between their start and the end of their run: the
 * dispatcher reads them, puts them in a message to a worker and, with a worker in its JVM, that worker holds
 * them until the task ends. Sixteen tasks of a 16 MiB argument, claimed at once by a dispatcher with eight
 * slots, ran a 256 MiB heap out (the embedded worker's ZeroMQ thread died, and no task ended after). A task
 * whose arguments are {@link #BIG} or more takes {@link #COPIES} times their length (as a big request body
 * reserves in the API) from its start until its run ends; one that does not fit stays in the backlog, and the
 * big ones behind it with it, in their order, while small tasks pass. One alone always starts, however big.
 * Used on the dispatcher's context.
 */
final class ArgumentRoom {
  static final long BIG = 1 << 20;
  static final int COPIES = 4;

  private final long capacity;
  private long taken;

  ArgumentRoom(long capacity) {
    this.capacity = capacity;
  }

  /** Half the heap: the rest is the dispatcher's own, the outcomes on their way to Redis, and an API beside. */
  static ArgumentRoom ofHeap() {
    return new ArgumentRoom(Runtime.getRuntime().maxMemory() / 2);
  }

  /** What the arguments of a task, {@code length} long (base64), take; 0 for small ones. */
  static long bytesFor(long length) {
    return length < BIG ? 0 : length * COPIES;
  }

  /** Takes {@code bytes} if they fit beside what is taken, or if nothing is; false if not. */
  boolean take(long bytes) {
    if (bytes > 0 && taken > 0 && taken + bytes > capacity) {
      return false;
    }
    taken += bytes;
    return true;
  }

  void giveBack(long bytes) {
    taken -= bytes;
  }
}
