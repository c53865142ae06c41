package io.mpcsfaas.store;

import java.time.Instant;

/** Timestamps as Python's {@code time.time()} prints them: seconds since the epoch, microsecond fraction. */
public final class Timestamps {
  private Timestamps() {}

  public static String now() {
    Instant t = Instant.now();
    return String.format("%d.%06d", t.getEpochSecond(), t.getNano() / 1000);
  }
}
