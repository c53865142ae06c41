package io.mpcsfaas.store;

/** How long a Redis call that carries big values may take before Redis counts as down. */
public final class TransferTime {
  private static final long MILLIS_PER_16_MIB = 1000;

  private TransferTime() {}

  /**
   * The base, and 1 s more per 16 MiB carried, which Redis and the client take to move under load (a 64 MiB
   * argument is 85 MiB base64).
   */
  public static long millis(long baseMillis, long bytes) {
    return baseMillis + MILLIS_PER_16_MIB * bytes / (16L << 20);
  }
}
