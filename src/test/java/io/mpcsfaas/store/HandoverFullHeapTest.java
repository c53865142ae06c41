package io.mpcsfaas.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A heap too full for its work takes held values back, and their readers go to Redis. Runs the JVM out of heap:
 * tagged to run in a JVM of its own (pom.xml, execution fills-heap).
 */
@Tag("fills-heap")
class HandoverFullHeapTest {

  @Test
  void aHeapTooFullForWhatItMustDoTakesHeldValuesBack() {
    Handover handover = new Handover(Long.MAX_VALUE, System::nanoTime);
    handover.putResult("t1", "o", "r".repeat(1 << 20));
    handover.putArguments("t1", "a".repeat(1 << 20));
    handover.putResult("t2", "o", "r".repeat(1 << 20));
    assertTrue(handover.holdsResult("t1"));
    fillTheHeap();
    assertTrue(handover.takeResult("t1", "o") == null, "its reader goes to Redis");
    assertTrue(handover.takeArguments("t1") == null);
    assertFalse(handover.holdsResult("t2"), "so a read of the task asks Redis for the result at once");
  }

  /** Allocates 64 MiB at a time until the heap is full: the JVM clears soft references before it throws. */
  private static void fillTheHeap() {
    List<long[]> hog = new ArrayList<>();
    try {
      while (true) {
        hog.add(new long[8 << 20]);
      }
    } catch (OutOfMemoryError full) {
      hog.clear();
    }
  }
}
