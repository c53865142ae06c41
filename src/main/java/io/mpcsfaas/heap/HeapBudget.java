package io.mpcsfaas.heap;

/**
 * The bytes of heap that big values in flight may hold at once, each reserved before its copies are made and
 * released once they are gone: the API's for request bodies and the results it answers with, a dispatcher's for
 * the arguments of the tasks it runs. A value of {@link #BIG} or more reserves {@link #COPIES} times its length;
 * one that does not fit beside those reserved waits or is refused, by its owner's choice. One alone is always let
 * in, however big: the heap is the limit then. Shared by event loops, hence synchronized.
 */
public final class HeapBudget {
  /** Smaller values pass unreserved: a thousand of them in flight hold less than one 64 MiB call. */
  public static final long BIG = 1 << 20;
  /** Copies of a value held at its peak (measured with a 64 MiB echo in local mode). */
  public static final int COPIES = 4;

  private final long capacity;
  private long reserved;

  public HeapBudget(long capacity) {
    this.capacity = capacity;
  }

  /** The bytes a value {@code length} long reserves; 0 for a small one. */
  public static long bytesFor(long length) {
    return length < BIG ? 0 : length * COPIES;
  }

  /**
   * Reserves {@code bytes} more for a holder that has {@code held} reserved already, if they fit beside what is
   * reserved, or if nothing is reserved but its own.
   */
  public synchronized boolean reserve(long bytes, long held) {
    if (reserved > held && reserved + bytes > capacity) {
      return false;
    }
    reserved += bytes;
    return true;
  }

  public synchronized void release(long bytes) {
    reserved -= bytes;
  }

  public long capacity() {
    return capacity;
  }
}
