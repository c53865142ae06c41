package io.mpcsfaas.async;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void doublesFromAHundredMillisUpToItsLimitAndStartsOverAfterASuccess() {
    Backoff backoff = new Backoff(1000);
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      delays.add(backoff.next());
    }
    assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), delays);
    backoff.reset();
    assertEquals(100, backoff.next());
    assertEquals(200, backoff.next());
  }
}
