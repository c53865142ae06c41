package io.mpcsfaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A cluster worker's choice among the dispatchers it may follow, given those that listen in its cluster. */
class DispatcherChoiceTest {
  private final DispatcherChoice choice = new DispatcherChoice(List.of("d1", "d2", "d3"));

  @Test
  void itStartsWithTheFirstListed() {
    assertEquals("d1", choice.first());
  }

  @Test
  void itStaysWithItsDispatcherWhileThatOneListensEvenWhenAnEarlierOneIsBack() {
    assertEquals("d2", choice.next("d2", Set.of("d1", "d2", "d3")));
  }

  @Test
  void whenItsDispatcherIsGoneItFollowsTheFirstListedThatListens() {
    assertEquals("d2", choice.next("d1", Set.of("d3", "d2")));
    assertEquals("d3", choice.next("d1", Set.of("d3")));
    assertEquals("d1", choice.next("d3", Set.of("d1", "d2")));
  }

  @Test
  void noneListeningMeansJoiningAgain() {
    assertNull(choice.next("d1", Set.of()));
  }

  @Test
  void aDispatcherItDoesNotListIsNeverChosen() {
    assertNull(choice.next("d1", Set.of("other")));
  }

  @Test
  void aWorkerWithoutADispatcherIsAMistake() {
    assertThrows(IllegalArgumentException.class, () -> new DispatcherChoice(List.of()));
  }
}
