package io.mpcsfaas.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeldFunctionsTest {

  @Test
  void theLeastRecentlyUsedLeaveFirstWhenOverTheCount() {
    HeldFunctions<String> held = new HeldFunctions<>(2, 1000);
    assertEquals(List.of(), held.put("a", "A", 1));
    assertEquals(List.of(), held.put("b", "B", 1));
    assertEquals("A", held.get("a")); // a is now the most recently used
    assertEquals(List.of("b"), held.put("c", "C", 1));
    assertTrue(held.contains("a"));
    assertFalse(held.contains("b"));
    assertEquals(2, held.size());
  }

  @Test
  void theyLeaveToStayWithinTheBytesAndOneOverThemIsHeldAlone() {
    HeldFunctions<String> held = new HeldFunctions<>(10, 100);
    held.put("a", "A", 40);
    held.put("b", "B", 40);
    assertEquals(List.of("a"), held.put("c", "C", 40));
    assertEquals(List.of("b", "c"), held.put("big", "BIG", 500));
    assertEquals("BIG", held.get("big"));
    assertEquals(1, held.size());
  }
}
