package io.mpcsfaas.worker;

import java.util.List;
import java.util.Set;

/**
 * Which dispatcher a cluster worker talks to, among those it may follow ({@code --name d1,d2}, in order of
 * preference). It stays with the one it has while that one listens: moving would cost the tasks in hand
 * (their results would reach a dispatcher that never sent them). When that one is gone, it takes the first
 * listed that listens, so the workers of a dead dispatcher run its tasks through a live one.
 */
record DispatcherChoice(List<String> names) {

  DispatcherChoice {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a worker needs a dispatcher to follow");
    }
    names = List.copyOf(names);
  }

  /** The dispatcher a worker starts with. */
  String first() {
    return names.get(0);
  }

  /**
   * The dispatcher to talk to, given the one it has and the names that have a consumer in its cluster now;
   * null when none of its dispatchers does (leaving the cluster and joining it again may find one).
   */
  String next(String current, Set<String> listening) {
    if (listening.contains(current)) {
      return current;
    }
    return names.stream().filter(listening::contains).findFirst().orElse(null);
  }
}
