package io.mpcsfaas.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What the handover between an API and a dispatcher in one JVM holds, and for how long. */
class HandoverTest {
  private static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(Handover.MAX_AGE_MILLIS);
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Handover handover = new Handover(100, now::get);

  @Test
  void argumentsAreTakenOnce() {
    handover.putArguments("t1", "abcd");
    assertEquals("abcd", handover.takeArguments("t1"));
    assertNull(handover.takeArguments("t1"), "a second start reads Redis");
    assertNull(handover.takeArguments("t2"));
  }

  @Test
  void droppedArgumentsAreGone() {
    handover.putArguments("t1", "abcd");
    handover.dropArguments("t1");
    assertNull(handover.takeArguments("t1"));
  }

  @Test
  void aResultIsGivenOnlyForTheOwnerRedisNamesAndDroppedEitherWay() {
    handover.putResult("t1", "1-0/w1", "rrrr");
    assertTrue(handover.holdsResult("t1"));
    assertEquals("rrrr", handover.takeResult("t1", "1-0/w1"));
    assertFalse(handover.holdsResult("t1"));

    handover.putResult("t2", "1-0/w1", "rrrr");
    assertNull(handover.takeResult("t2", "2-0/w1"), "the task ran again since");
    assertFalse(handover.holdsResult("t2"));
    handover.putResult("t3", "1-0/w1", "rrrr");
    assertNull(handover.takeResult("t3", null), "the stored result has no owner");
    assertFalse(handover.holdsResult("t3"));
  }

  @Test
  void argumentsAndResultsOfOneTaskAreHeldApart() {
    handover.putArguments("t1", "aaaa");
    handover.putResult("t1", "o", "rrrr");
    assertEquals("aaaa", handover.takeArguments("t1"));
    assertEquals("rrrr", handover.takeResult("t1", "o"));
  }

  @Test
  void aValuePastTheBudgetIsNotHeldAndTakingMakesRoom() {
    handover.putArguments("t1", "a".repeat(60));
    handover.putArguments("t2", "b".repeat(60));
    assertNull(handover.takeArguments("t2"), "60 + 60 bytes pass a budget of 100");
    assertEquals(60, handover.takeArguments("t1").length());
    handover.putArguments("t3", "c".repeat(100));
    assertEquals(100, handover.takeArguments("t3").length(), "the budget is free again");
    handover.putArguments("t4", "d".repeat(101));
    assertNull(handover.takeArguments("t4"));
  }

  @Test
  void aValueNobodyTookIsDroppedOnceOldAndFreesItsBytes() {
    handover.putArguments("old", "a".repeat(60));
    now.addAndGet(MAX_AGE_NANOS - 1);
    handover.putResult("young", "o", "r".repeat(30));
    now.addAndGet(1);
    handover.putArguments("new", "b".repeat(60)); // fits only once the old one is dropped
    assertNull(handover.takeArguments("old"));
    assertEquals("r".repeat(30), handover.takeResult("young", "o"), "not old yet");
    assertEquals(60, handover.takeArguments("new").length());
  }

  @Test
  void takingAnotherValueDropsTheOldOnesToo() {
    handover.putResult("unread", "o", "r".repeat(60));
    now.addAndGet(MAX_AGE_NANOS / 2);
    handover.putArguments("t1", "a");
    now.addAndGet(MAX_AGE_NANOS / 2);
    assertEquals("a", handover.takeArguments("t1"));
    assertFalse(handover.holdsResult("unread"), "dropped by the take, not kept until the next value is held");
  }

  @Test
  void noneHoldsNothing() {
    Handover.NONE.putArguments("t1", "abcd");
    Handover.NONE.putResult("t1", "o", "rrrr");
    assertFalse(Handover.NONE.active());
    assertNull(Handover.NONE.takeArguments("t1"));
    assertFalse(Handover.NONE.holdsResult("t1"));
  }
}
