package io.mpcsfaas.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How a dispatcher reaches the interpreters that run its tasks. */
public enum Mode {
  /** Its own interpreter pool, in the same JVM. */
  LOCAL,
  /** ZeroMQ workers that ask for tasks. */
  PULL,
  /** ZeroMQ workers the dispatcher sends tasks to. */
  PUSH,
  /** Worker verticles in other JVMs of a Vert.x cluster, over the clustered event bus. */
  CLUSTER;

  /** The mode as written in configs, flags and the wire protocol. */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Mode parse(String word) {
    for (Mode mode : values()) {
      if (mode.word().equals(word)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown mode '" + word + "' (expected "
        + Arrays.stream(values()).map(Mode::word).collect(Collectors.joining(", ")) + ")");
  }
}
