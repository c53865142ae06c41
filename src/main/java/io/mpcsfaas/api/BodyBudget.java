package io.mpcsfaas.api;

/**
 * The heap that big requests may hold at once. While it runs, a request with a big body holds several copies of
 * it: the body, its payload as text, the Redis client's bytes of it and their encoding, and under {@code ?wait=}
 * the result on its way back. Four 64 MiB calls at once at {@code -Xmx512m} all ran out of heap halfway, each
 * failing after the others had filled it. A body of {@link #BIG} or more now reserves {@link #COPIES} times its
 * length until its response ends, and one that does not fit beside those in flight is refused with a 503 and
 * {@code Retry-After} before any of it is read. A body alone is always let in, however big: the heap is the limit
 * then, as before.
 */
final class BodyBudget {
  /** Smaller bodies pass unreserved: a thousand of them in flight hold less than one 64 MiB call. */
  static final long BIG = 1 << 20;
  /** Copies of a body one request holds at its peak (measured with a 64 MiB echo in local mode). */
  static final int COPIES = 4;

  private final long capacity;
  private long reserved;

  BodyBudget(long capacity) {
    this.capacity = capacity;
  }

  /** Three quarters of the heap: the rest is the platform's own, and the small requests'. */
  static BodyBudget ofHeap() {
    return new BodyBudget(Runtime.getRuntime().maxMemory() / 4 * 3);
  }

  /**
   * The bytes a body of {@code length} reserves; 0 for a small one. A body that is a pickle itself ({@link PickleBody})
   * counts as the base64 text it becomes, a third longer: the copies the request holds are of that text.
   */
  static long bytesFor(long length, boolean pickle) {
    long text = pickle ? (length + 2) / 3 * 4 : length;
    return length < BIG ? 0 : text * COPIES;
  }

  /**
   * Reserves {@code bytes} more for a request that holds {@code held} already, if they fit beside what is
   * reserved, or if nothing is reserved but its own.
   */
  synchronized boolean reserve(long bytes, long held) {
    if (reserved > held && reserved + bytes > capacity) {
      return false;
    }
    reserved += bytes;
    return true;
  }

  synchronized void release(long bytes) {
    reserved -= bytes;
  }

  long capacity() {
    return capacity;
  }
}
