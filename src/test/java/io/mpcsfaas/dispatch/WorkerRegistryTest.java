package io.mpcsfaas.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Free slots as the dispatcher counts them, and which worker gets the next task. */
class WorkerRegistryTest {

  @Test
  void untilItSaysAPushWorkerCanHoldItsSlotsAndAPullWorkerNothing() {
    WorkerRegistry push = new WorkerRegistry(false);
    push.register("p1", "w1", "s1", 2, 0);
    assertEquals(2, push.room());
    WorkerRegistry pull = new WorkerRegistry(true);
    pull.register("p1", "w1", "s1", 2, 0);
    assertEquals(0, pull.room());
  }

  @ParameterizedTest(name = "pull: {0}")
  @ValueSource(booleans = {false, true})
  void freeSlotsAreWhatAWorkerSaysItCanHoldMinusWhatItWasSent(boolean pull) {
    WorkerRegistry registry = new WorkerRegistry(pull);
    WorkerRegistry.Worker worker = registry.register("p1", "w1", "s1", 2, 0);
    worker.asked = 5; // a count from an earlier ask no longer matters once the worker says what it can hold
    worker.hold = 10;
    registry.assign(worker, "t1", Promise.promise());
    assertEquals(9, registry.room());
    worker.hold = 0;
    assertEquals(0, registry.room(), "never below zero; the next number said replaces a stale one");
  }

  @Test
  void aTaskClaimedWhileThereWasRoomStillGoesToTheLeastOvercommittedPushWorker() {
    WorkerRegistry registry = new WorkerRegistry(false);
    WorkerRegistry.Worker busier = registry.register("p1", "w1", "s1", 1, 0);
    WorkerRegistry.Worker lessBusy = registry.register("p2", "w2", "s2", 1, 0);
    registry.assign(busier, "t1", Promise.promise());
    registry.assign(busier, "t2", Promise.promise());
    registry.assign(lessBusy, "t3", Promise.promise());
    assertEquals(0, registry.room());
    assertSame(lessBusy, registry.choose());
    lessBusy.draining = true;
    assertSame(busier, registry.choose(), "a draining worker gets nothing");
  }

  @Test
  void aPullWorkerWhoseAsksCarryOnlyACountGetsWhatItAskedFor() {
    WorkerRegistry registry = new WorkerRegistry(true);
    WorkerRegistry.Worker worker = registry.register("p1", "w1", "s1", 2, 0);
    assertNull(registry.choose(), "nothing asked yet");
    worker.asked = 1;
    assertSame(worker, registry.choose());
    registry.assign(worker, "t1", Promise.promise());
    assertNull(registry.choose());
  }

  @Test
  void theMostFreeWorkerGetsTheNextTaskAndTiesGoToTheOneIdleLongest() {
    WorkerRegistry registry = new WorkerRegistry(false);
    WorkerRegistry.Worker first = registry.register("p1", "w1", "s1", 2, 0);
    WorkerRegistry.Worker second = registry.register("p2", "w2", "s2", 3, 0);
    assertSame(second, registry.choose());
    registry.assign(second, "t1", Promise.promise());
    assertSame(first, registry.choose(), "2 free each: the one never assigned");
  }
}
