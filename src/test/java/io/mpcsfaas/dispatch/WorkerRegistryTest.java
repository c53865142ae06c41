package io.mpcsfaas.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mpcsfaas.config.Environments;
import io.vertx.core.Promise;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Free slots as the dispatcher counts them, and which worker gets the next task. */
class WorkerRegistryTest {
  private static final Set<String> DEFAULT_ONLY = Set.of(Environments.DEFAULT);

  @Test
  void untilItSaysAPushWorkerCanHoldItsSlotsAndAPullWorkerNothing() {
    WorkerRegistry push = new WorkerRegistry(false);
    push.register("p1", "w1", "s1", 2, DEFAULT_ONLY, false, 0);
    assertEquals(2, push.room());
    WorkerRegistry pull = new WorkerRegistry(true);
    pull.register("p1", "w1", "s1", 2, DEFAULT_ONLY, false, 0);
    assertEquals(0, pull.room());
  }

  @ParameterizedTest(name = "pull: {0}")
  @ValueSource(booleans = {false, true})
  void freeSlotsAreWhatAWorkerSaysItCanHoldMinusWhatItWasSent(boolean pull) {
    WorkerRegistry registry = new WorkerRegistry(pull);
    WorkerRegistry.Worker worker = registry.register("p1", "w1", "s1", 2, DEFAULT_ONLY, false, 0);
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
    WorkerRegistry.Worker busier = registry.register("p1", "w1", "s1", 1, DEFAULT_ONLY, false, 0);
    WorkerRegistry.Worker lessBusy = registry.register("p2", "w2", "s2", 1, DEFAULT_ONLY, false, 0);
    registry.assign(busier, "t1", Promise.promise());
    registry.assign(busier, "t2", Promise.promise());
    registry.assign(lessBusy, "t3", Promise.promise());
    assertEquals(0, registry.room());
    assertSame(lessBusy, registry.choose(Environments.DEFAULT));
    lessBusy.draining = true;
    assertSame(busier, registry.choose(Environments.DEFAULT), "a draining worker gets nothing");
  }

  @Test
  void aPullWorkerWhoseAsksCarryOnlyACountGetsWhatItAskedFor() {
    WorkerRegistry registry = new WorkerRegistry(true);
    WorkerRegistry.Worker worker = registry.register("p1", "w1", "s1", 2, DEFAULT_ONLY, false, 0);
    assertNull(registry.choose(Environments.DEFAULT), "nothing asked yet");
    worker.asked = 1;
    assertSame(worker, registry.choose(Environments.DEFAULT));
    registry.assign(worker, "t1", Promise.promise());
    assertNull(registry.choose(Environments.DEFAULT));
  }

  @Test
  void theMostFreeWorkerGetsTheNextTaskAndTiesGoToTheOneIdleLongest() {
    WorkerRegistry registry = new WorkerRegistry(false);
    WorkerRegistry.Worker first = registry.register("p1", "w1", "s1", 2, DEFAULT_ONLY, false, 0);
    WorkerRegistry.Worker second = registry.register("p2", "w2", "s2", 3, DEFAULT_ONLY, false, 0);
    assertSame(second, registry.choose(Environments.DEFAULT));
    registry.assign(second, "t1", Promise.promise());
    assertSame(first, registry.choose(Environments.DEFAULT), "2 free each: the one never assigned");
  }

  @Test
  void aTaskOfAnEnvironmentGoesOnlyToAWorkerThatOffersItWhateverTheOthersRoom() {
    WorkerRegistry registry = new WorkerRegistry(false);
    WorkerRegistry.Worker plain = registry.register("p1", "w1", "s1", 8, DEFAULT_ONLY, false, 0);
    assertNull(registry.choose("special"), "no worker offers it");
    assertEquals(0, registry.room("special"));
    assertEquals(Set.of(Environments.DEFAULT), registry.envs());

    WorkerRegistry.Worker special = registry.register("p2", "w2", "s2", 1, Set.of(Environments.DEFAULT, "special"), false, 0);
    assertEquals(Set.of(Environments.DEFAULT, "special"), registry.envs());
    assertEquals(1, registry.room("special"));
    assertSame(special, registry.choose("special"));
    assertSame(plain, registry.choose(Environments.DEFAULT), "the default's task goes to the one with most room");

    registry.remove(special, "left");
    assertEquals(Set.of(Environments.DEFAULT), registry.envs(), "its environment leaves with it");
    assertNull(registry.choose("special"));
  }
}
