package io.mpcsfaas.store;

import java.time.Instant;

/** Timestamps as Python's {@code time.time()} prints them: seconds since the epoch, microsecond fraction. */
public final class Timestamps {
  private Timestamps() {}

  public static String now() {
    Instant t = Instant.now();
    String micros = Integer.toString(1_000_000 + t.getNano() / 1000); // "1" and six digits, zero-padded
    return t.getEpochSecond() + "." + micros.substring(1);
  }
}
