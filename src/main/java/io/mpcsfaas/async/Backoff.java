package io.mpcsfaas.async;

/**
 * The delays between retries of a call that keeps failing: 100 ms, doubled after each failure up to a limit,
 * and back to 100 ms once a call succeeds. Single-threaded.
 */
public final class Backoff {
  private static final long FIRST_MILLIS = 100;

  private final long maxMillis;
  private long lastMillis;

  public Backoff(long maxMillis) {
    this.maxMillis = maxMillis;
  }

  /** The delay before the next retry; call it once per failure. */
  public long next() {
    lastMillis = Math.min(maxMillis, Math.max(FIRST_MILLIS, lastMillis * 2));
    return lastMillis;
  }

  /** A call succeeded: the next failure waits the shortest delay again. */
  public void reset() {
    lastMillis = 0;
  }
}
