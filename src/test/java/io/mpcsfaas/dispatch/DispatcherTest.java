package io.mpcsfaas.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher alone, over an in-memory queue and backend whose answers arrive on a clock the test moves by
 * hand: each test checks the order of the calls it makes.
 */
class DispatcherTest {
  final List<String> events = new ArrayList<>();
  final ManualClock clock = new ManualClock();
  final MemoryQueue queue = new MemoryQueue();

  private Dispatcher dispatcher(MemoryBackend backend, int prefetch) {
    return new Dispatcher(queue, backend, clock, prefetch, new HeapBudget(Long.MAX_VALUE / 2));
  }

  private List<String> eventsSince(int index) {
    return new ArrayList<>(events.subList(index, events.size()));
  }

  private List<String> eventsOf(String call) {
    return events.stream().filter(e -> e.startsWith(call)).toList();
  }

  @Test
  void recoversTheEntriesItHeldBeforeARestartBeforeClaimingNewOnes() {
    queue.held.addAll(List.of(entry("p1"), entry("p2")));
    queue.submit("n1");
    Future<Void> ready = dispatcher(new MemoryBackend(4), 2).start();
    assertFalse(ready.isComplete(), "not ready before the recovery");
    clock.settle();

    assertTrue(ready.succeeded());
    assertEquals(List.of("ensureGroup", "claimPending", "start p1,p2", "claimNew 4", "run p1", "run p2",
        "start n1", "claimNew 3", "run n1"), events);
  }

  @Test
  void claimsNoMoreThanItsRoomPlusPrefetch() {
    for (int i = 0; i < 20; i++) {
      queue.submit("t" + i);
    }
    MemoryBackend backend = new MemoryBackend(2);
    dispatcher(backend, 3).start();
    clock.settle();
    assertEquals(List.of("claimNew 5"), eventsOf("claimNew"), "room 2 + prefetch 3");
    assertEquals(List.of("t0", "t1"), List.copyOf(backend.running.keySet()));
    assertEquals(15, queue.fresh.size(), "the rest wait in the queue for any dispatcher");

    backend.complete("t0");
    clock.settle();
    assertEquals(List.of("claimNew 5", "claimNew 1"), eventsOf("claimNew"), "one freed slot, one more claimed");
    assertEquals(List.of("t1", "t2"), List.copyOf(backend.running.keySet()), "the freed slot took a prefetched task");
    assertEquals(14, queue.fresh.size());
  }

  @Test
  void aTaskHoldsItsClaimUntilItsOutcomeIsStoredSoASlowStoreStopsTheClaims() {
    for (int i = 0; i < 20; i++) {
      queue.submit("t" + i);
    }
    MemoryBackend backend = new MemoryBackend(2);
    dispatcher(backend, 1).start();
    clock.settle();
    queue.withhold("finish"); // Redis stores outcomes slower than the backend ends tasks
    for (int round = 0; round < 5; round++) {
      List.copyOf(backend.running.keySet()).forEach(backend::complete);
      clock.settle();
    }
    assertEquals(List.of("claimNew 3"), eventsOf("claimNew"), "room 2 + prefetch 1, and no more while unstored");
    assertEquals(List.of("t0"), queue.finished, "t0's store is applied but unanswered; t1 and t2 gather");
    assertEquals("t1,t2", ids(queue.held), "still pending in the queue");
    assertEquals(17, queue.fresh.size(), "the rest wait in the queue for any dispatcher");

    queue.answerWithheld();
    clock.settle();
    assertEquals(List.of("finish t0", "finish t1,t2"), eventsOf("finish"));
    assertEquals(List.of("t3", "t4"), List.copyOf(backend.running.keySet()), "stored outcomes free claims");
    assertEquals(3, queue.held.size());
  }

  @Test
  void aTaskWhoseWorkerIsLostGoesBackToTheBacklogAndRunsAgain() {
    queue.submit("a", "b");
    MemoryBackend backend = new MemoryBackend(1);
    dispatcher(backend, 0).start();
    clock.settle();
    backend.lose("a");
    clock.settle();
    backend.complete("a");
    clock.settle();

    assertEquals(List.of("ensureGroup", "claimPending", "claimNew 1", "start a", "run a",
        "lost a", "start a", "run a",
        "done a", "finish a", "claimNew 1", "start b", "run b"), events);
    assertEquals(List.of("a"), queue.finished);
  }

  @Test
  void liveOutputOfARunningTaskIsStoredAsItComesAndAFailedStoreIsNotRetried() {
    queue.submit("a");
    MemoryBackend backend = new MemoryBackend(1);
    dispatcher(backend, 0).start();
    clock.settle();
    queue.failNext("storeOutput", "Redis down");
    backend.print("a", "one\n");
    clock.settle();
    backend.print("a", "one\ntwo\n");
    clock.settle();
    backend.complete("a");
    clock.settle();

    assertEquals(List.of("run a", "print a", "storeOutput a one", "print a", "storeOutput a one\ntwo",
        "done a", "finish a"), eventsSince(events.indexOf("run a")).stream()
        .filter(e -> !e.startsWith("claimNew")).toList());
  }

  @Test
  void outcomesThatArriveWhileOneIsBeingStoredAreStoredTogether() {
    queue.submit("a", "b", "c", "d");
    MemoryBackend backend = new MemoryBackend(4);
    dispatcher(backend, 0).start();
    clock.settle();
    for (String task : List.of("a", "b", "c", "d")) {
      backend.complete(task); // within one turn: the first goes out, the others gather behind it
    }
    clock.settle();

    assertEquals(List.of("finish a", "finish b,c,d"), eventsOf("finish"));
    assertEquals(List.of("a", "b", "c", "d"), queue.finished);
  }

  @Test
  void outcomesWhoseStoreFailedAreStoredAgainAfterTheBackoffAheadOfThoseThatGathered() {
    queue.submit("a", "b");
    MemoryBackend backend = new MemoryBackend(2);
    dispatcher(backend, 0).start();
    clock.settle();
    queue.failNext("finish", "ERR connection lost");
    backend.complete("a");
    backend.complete("b"); // gathers while a's call is on its way
    clock.settle();
    assertEquals(List.of("finish a"), eventsOf("finish"), "nothing goes out before the backoff is over");

    clock.advance(100);
    assertEquals(List.of("finish a", "finish a,b"), eventsOf("finish"));
    assertEquals(List.of("a", "b"), queue.finished);
  }

  @Test
  void anOutcomeThatKeepsRunningTheHeapOutIsStoredAsAFailureAndTheOthersAsTheyCame() {
    queue.submit("big", "small");
    MemoryBackend backend = new MemoryBackend(2);
    dispatcher(backend, 0).start();
    clock.settle();
    queue.throwNext("finish", new OutOfMemoryError("Java heap space")); // the heap was full for a moment
    backend.complete("small");
    clock.advance(10_000);
    assertEquals(List.of("finish small threw", "finish small"), eventsOf("finish"));
    assertTrue(queue.stored.get("small").ok(), "a store that ran the heap out once is retried as it was");

    for (int i = 0; i < Dispatcher.HEAP_ATTEMPTS; i++) {
      queue.throwNext("finish", new OutOfMemoryError("Java heap space"));
    }
    backend.completeWith("big", TaskOutcome.success("QUJD".repeat(1 << 18))
        .withOutput(new TaskOutput("printed\n", "", false)));
    clock.advance(60_000);
    assertEquals(Dispatcher.HEAP_ATTEMPTS + 1, eventsOf("finish big").size(), eventsOf("finish").toString());
    TaskOutcome stored = queue.stored.get("big");
    assertFalse(stored.ok());
    assertTrue(stored.error().contains("did not fit the platform's heap"), stored.error());
    assertEquals("printed\n", stored.output().stdout(), "what it printed is kept");
    assertEquals(List.of("small", "big"), queue.finished);
  }

  @Test
  void aFailedClaimIsRetriedAfterABackoffThatDoublesAndStartsOverAfterASuccess() {
    queue.failNext("claimNew", "ERR connection lost");
    queue.failNext("claimNew", "ERR connection lost");
    MemoryBackend backend = new MemoryBackend(1);
    dispatcher(backend, 0).start();
    clock.settle();
    assertEquals(1, eventsOf("claimNew").size());

    clock.advance(99);
    assertEquals(1, eventsOf("claimNew").size(), "no retry before the first backoff (100 ms) is over");
    clock.advance(1);
    assertEquals(2, eventsOf("claimNew").size());
    clock.advance(199);
    assertEquals(2, eventsOf("claimNew").size(), "no retry before the second backoff (200 ms) is over");
    clock.advance(1);
    assertEquals(3, eventsOf("claimNew").size(), "this one succeeds and waits for a task");

    queue.submit("a");
    clock.settle();
    queue.failNext("claimNew", "ERR connection lost");
    backend.complete("a"); // frees the slot: the next claim fails
    clock.settle();
    assertEquals(4, eventsOf("claimNew").size());
    clock.advance(100);
    assertEquals(5, eventsOf("claimNew").size(), "after a success the backoff starts over at 100 ms");
    assertEquals(1, eventsOf("ensureGroup").size(), "an ordinary failure does not recreate the group");
  }

  @Test
  void aClaimThatFindsNoGroupRecreatesItAndRecoversBeforeClaimingAgain() {
    queue.failNext("claimNew", "NOGROUP No such key 'queue' or consumer group 'dispatchers'");
    dispatcher(new MemoryBackend(1), 0).start();
    clock.settle();
    int failed = events.size();
    clock.advance(100);

    assertEquals(List.of("ensureGroup", "claimPending", "claimNew 1"), eventsSince(failed));
  }

  @Test
  void takesOverTheEntriesOfADispatcherThatStoppedIntoItsBacklog() {
    queue.orphans.addAll(List.of(entry("x"), entry("y"), entry("z")));
    MemoryBackend backend = new MemoryBackend(1);
    Dispatcher dispatcher = dispatcher(backend, 2);
    dispatcher.start();
    clock.settle();
    int before = events.size();
    dispatcher.keepClaims();
    clock.settle();

    assertEquals(List.of("refresh", "takeOver 2", "start x", "run x"), eventsSince(before),
        "no more than the prefetch; the first runs at once");
    assertEquals(List.of(entry("z")), List.copyOf(queue.orphans));
    backend.complete("x");
    clock.settle();
    assertEquals(List.of("y"), List.copyOf(backend.running.keySet()), "the other one waited in the backlog");
  }

  @Test
  void withoutAWorkerItClaimsAndTakesOverNothingUntilOneComes() {
    queue.submit("t1", "t2", "t3");
    queue.orphans.add(entry("x"));
    MemoryBackend backend = new MemoryBackend(0);
    Dispatcher dispatcher = dispatcher(backend, 2);
    dispatcher.start();
    clock.settle();
    dispatcher.keepClaims();
    clock.settle();
    assertEquals(List.of("ensureGroup", "claimPending", "refresh"), events, "no prefetch without a worker");
    assertEquals(3, queue.fresh.size(), "the tasks wait in the queue for a dispatcher with workers");

    backend.resize(1);
    clock.settle();
    assertEquals(List.of("claimNew 3"), eventsOf("claimNew"), "room 1 + prefetch 2, once a worker came");
    assertEquals(List.of("t1"), List.copyOf(backend.running.keySet()));
  }

  @Test
  void afterStopItClaimsAndStartsNothingButStillStoresTheOutcomesOfRunningTasks() {
    queue.submit("t");
    queue.orphans.add(entry("x"));
    MemoryBackend backend = new MemoryBackend(2);
    Dispatcher dispatcher = dispatcher(backend, 0);
    dispatcher.start();
    clock.settle();
    assertEquals(List.of("claimNew 2", "claimNew 1"), eventsOf("claimNew"), "the second one waits");

    dispatcher.stop();
    int stopped = events.size();
    queue.submit("a"); // answers the claim that was waiting
    dispatcher.keepClaims();
    backend.complete("t");
    clock.advance(10_000);

    assertEquals(List.of("done t", "finish t"), eventsSince(stopped));
    assertEquals(List.of("t"), queue.finished);
  }

  @Test
  void aCancelledTaskTheBackendRunsIsStoppedThereAndItsOutcomeStoredAsAnyOther() {
    queue.submit("a", "b");
    MemoryBackend backend = new MemoryBackend(2);
    Dispatcher dispatcher = dispatcher(backend, 0);
    dispatcher.start();
    clock.settle();
    int before = events.size();
    dispatcher.cancel("a");
    dispatcher.cancel("unknown"); // another dispatcher's task
    clock.settle();

    assertEquals(List.of("cancel a", "done a", "finish a", "cancel unknown", "claimNew 1"), eventsSince(before),
        "stored at once like any outcome; once stored, its slot claims more");
    assertEquals(List.of("b"), List.copyOf(backend.running.keySet()));
  }

  @Test
  void aCancelledTaskInTheBacklogIsDroppedWithoutAStart() {
    queue.submit("a", "b", "c");
    MemoryBackend backend = new MemoryBackend(1);
    Dispatcher dispatcher = dispatcher(backend, 2);
    dispatcher.start();
    clock.settle();
    dispatcher.cancel("b");
    backend.complete("a");
    clock.settle();

    assertEquals(List.of("start a", "start c"), eventsOf("start"));
    assertEquals(List.of("c"), List.copyOf(backend.running.keySet()));
  }

  @Test
  void aTaskCancelledWhileItsStartIsOnItsWayIsNotHandedOver() {
    queue.submit("a", "b");
    MemoryBackend backend = new MemoryBackend(2);
    Dispatcher dispatcher = dispatcher(backend, 0);
    queue.whenCalled("start", () -> dispatcher.cancel("a"));
    dispatcher.start();
    clock.settle();

    assertEquals(List.of("start a,b", "cancel a", "run b"), events.stream()
        .filter(e -> e.startsWith("start") || e.startsWith("cancel") || e.startsWith("run")).toList());
    assertEquals(List.of("b"), List.copyOf(backend.running.keySet()));
    backend.complete("b");
    queue.submit("c");
    clock.settle();
    assertEquals(List.of("c"), List.copyOf(backend.running.keySet()), "a forgotten cancel does not hold later tasks");
  }

  @Test
  void aTaskOfAnEnvironmentNobodyOffersStaysQueuedUntilOneIsOfferedThenRunsThere() {
    MemoryBackend backend = new MemoryBackend(2);
    queue.submitOf("special", "s1");
    queue.submit("d1");
    dispatcher(backend, 2).start();
    clock.settle();
    assertEquals(List.of("d1"), List.copyOf(backend.running.keySet()), "only the default's task runs");
    assertTrue(queue.fresh.stream().anyMatch(e -> e.taskId().equals("s1")), "never claimed: no queue read names it");
    assertFalse(events.stream().anyMatch(e -> e.contains("special")), "its queue is not even read");

    int mark = events.size();
    backend.offer("special");
    clock.settle();
    queue.blockEnds(); // the read under way names only the default's queue; the next one names both
    clock.settle();
    assertEquals(List.of("ensureGroup special", "claimPending special"), eventsSince(mark).stream()
        .filter(e -> e.startsWith("ensureGroup") || e.startsWith("claimPending")).toList(),
        "a newly offered environment: its group made and what this dispatcher held there taken back first");
    assertEquals(List.of("d1", "s1"), List.copyOf(backend.running.keySet()));
    assertTrue(eventsOf("claimNew").stream().anyMatch(e -> e.endsWith("default+special")),
        "then both queues are read in one call");
  }

  @Test
  void aClaimedTaskWaitsForRoomInItsOwnEnvironmentWhileOthersPassIt() {
    MemoryBackend backend = new MemoryBackend(4);
    backend.envs.add("special");
    backend.full.add("special"); // its interpreters are all busy
    queue.submitOf("special", "s1");
    queue.submit("d1", "d2");
    dispatcher(backend, 4).start();
    clock.settle();
    assertEquals(List.of("d1", "d2"), List.copyOf(backend.running.keySet()),
        "the default's tasks pass the one that has no room, which stays claimed in the backlog");
    assertFalse(events.stream().anyMatch(e -> e.startsWith("start") && e.contains("s1")));
  }

  @Test
  void bigTasksStartAsTheHeapAllowsInTheirOrderWhileSmallOnesPassThem() {
    long big = 2 * HeapBudget.BIG; // the arguments' length each big task's entry carries
    long smaller = HeapBudget.BIG;
    queue.submitOf(Environments.DEFAULT, "b1", big);
    queue.submitOf(Environments.DEFAULT, "b2", big);
    queue.submit("s1");
    queue.submitOf(Environments.DEFAULT, "b3", smaller);
    MemoryBackend backend = new MemoryBackend(5);
    long room = HeapBudget.bytesFor(big) + HeapBudget.bytesFor(smaller);
    new Dispatcher(queue, backend, clock, 4, new HeapBudget(room)).start();
    clock.settle();
    assertEquals(List.of("b1", "s1"), List.copyOf(backend.running.keySet()),
        "b2 does not fit beside b1 and waits; b3 would fit, but waits behind b2; s1 passes");

    backend.complete("b1");
    clock.settle();
    assertEquals(List.of("s1", "b2", "b3"), List.copyOf(backend.running.keySet()), "b1's share went to b2, then b3");
    backend.lose("b2");
    clock.settle();
    assertEquals(List.of("s1", "b3", "b2"), List.copyOf(backend.running.keySet()),
        "a lost task releases its share and reserves it again when it runs again");
    queue.submitOf(Environments.DEFAULT, "b4", smaller);
    clock.settle();
    assertFalse(backend.running.containsKey("b4"), "the budget is all reserved");
    backend.complete("b3");
    clock.settle();
    assertEquals(List.of("s1", "b2", "b4"), List.copyOf(backend.running.keySet()));
  }

  @Test
  void aBigTaskThatDoesNotRunReleasesItsShare() {
    long big = HeapBudget.BIG;
    queue.submitOf(Environments.DEFAULT, "b1", big);
    queue.submitOf(Environments.DEFAULT, "b2", big);
    MemoryBackend backend = new MemoryBackend(2);
    Dispatcher dispatcher = new Dispatcher(queue, backend, clock, 2, new HeapBudget(HeapBudget.bytesFor(big)));
    queue.whenCalled("start", () -> dispatcher.cancel("b1"));
    dispatcher.start();
    clock.settle();
    assertEquals(List.of("b2"), List.copyOf(backend.running.keySet()), "b1, cancelled while it started, released its share");
  }

  @Test
  void aBigTaskAloneStartsHoweverSmallTheBudget() {
    queue.submitOf(Environments.DEFAULT, "b1", 10 * HeapBudget.BIG);
    MemoryBackend backend = new MemoryBackend(1);
    new Dispatcher(queue, backend, clock, 0, new HeapBudget(HeapBudget.BIG)).start();
    clock.settle();
    assertEquals(List.of("b1"), List.copyOf(backend.running.keySet()));
  }

  private static QueueEntry entry(String taskId) {
    return new QueueEntry("e-" + taskId, taskId);
  }

  /** The environments of a queue call, when not the default alone (so the default's events read as before). */
  private static String named(Collection<String> envs) {
    return envs.equals(List.of(Environments.DEFAULT)) || envs.equals(Set.of(Environments.DEFAULT))
        ? "" : " " + String.join("+", envs);
  }

  private static String ids(List<QueueEntry> entries) {
    return entries.stream().map(QueueEntry::taskId).collect(Collectors.joining(","));
  }

  /** Timers on a clock that moves only when the test says; delay 0 is the next turn of the event loop. */
  static final class ManualClock implements Timers {
    private record Due(long at, long order, Runnable action) {}

    private final PriorityQueue<Due> due = new PriorityQueue<>(
        Comparator.comparingLong(Due::at).thenComparingLong(Due::order));
    private long now;
    private long order;

    @Override
    public void setTimer(long delayMillis, Runnable action) {
      due.add(new Due(now + delayMillis, order++, action));
    }

    /** Runs what is due now, and what that makes due now, until nothing is. */
    void settle() {
      advance(0);
    }

    void advance(long millis) {
      long until = now + millis;
      while (!due.isEmpty() && due.peek().at() <= until) {
        Due next = due.poll();
        now = next.at();
        next.action().run();
      }
      now = until;
    }
  }

  /** The queue of one dispatcher; each call is logged when made and answered on the next turn of the clock. */
  final class MemoryQueue implements DispatchQueue {
    /** Never claimed. */
    final Deque<QueueEntry> fresh = new ArrayDeque<>();
    /** Pending for this dispatcher. */
    final List<QueueEntry> held = new ArrayList<>();
    /** Pending for a dispatcher that stopped. */
    final Deque<QueueEntry> orphans = new ArrayDeque<>();
    final List<String> finished = new ArrayList<>();
    /** What each finished task's stored outcome was. */
    final Map<String, TaskOutcome> stored = new HashMap<>();
    private final Map<String, Deque<String>> failures = new HashMap<>();
    private final Map<String, Deque<Error>> thrown = new HashMap<>();
    private final Map<String, Runnable> hooks = new HashMap<>();
    /** Calls whose answers wait until the test releases them, as those of a Redis busy elsewhere. */
    private final Set<String> withheld = new HashSet<>();
    private final Deque<Runnable> withheldAnswers = new ArrayDeque<>();
    private Promise<List<QueueEntry>> waitingClaim;
    private int waitingCount;

    private Collection<String> waitingEnvs = List.of();

    void submit(String... taskIds) {
      for (String taskId : taskIds) {
        fresh.add(entry(taskId));
      }
      answerWaitingClaim();
    }

    void submitOf(String env, String taskId) {
      submitOf(env, taskId, 0);
    }

    /** A task whose arguments, {@code bytes} long, are stored apart (its entry says how long). */
    void submitOf(String env, String taskId, long bytes) {
      fresh.add(new QueueEntry("e-" + taskId, taskId, env, bytes));
      answerWaitingClaim();
    }

    /** The blocking read waiting for new entries times out empty, as Redis answers it after its BLOCK time. */
    void blockEnds() {
      Promise<List<QueueEntry>> claim = waitingClaim;
      waitingClaim = null;
      clock.setTimer(0, () -> claim.complete(List.of()));
    }

    private void answerWaitingClaim() {
      if (waitingClaim != null) {
        Promise<List<QueueEntry>> claim = waitingClaim;
        waitingClaim = null;
        List<QueueEntry> claimed = take(waitingCount, waitingEnvs);
        clock.setTimer(0, () -> claim.complete(claimed));
      }
    }

    /** Runs {@code hook} once, when the next call of that name has been made and before it is answered. */
    void whenCalled(String call, Runnable hook) {
      hooks.put(call, hook);
    }

    /** Calls of that name are applied but not answered until {@link #answerWithheld}. */
    void withhold(String call) {
      withheld.add(call);
    }

    /** Answers the withheld calls, oldest first, and answers those made from now on at once. */
    void answerWithheld() {
      withheld.clear();
      while (!withheldAnswers.isEmpty()) {
        clock.setTimer(0, withheldAnswers.poll());
      }
    }

    /** The next call of that name fails with {@code message}. */
    void failNext(String call, String message) {
      failures.computeIfAbsent(call, c -> new ArrayDeque<>()).add(message);
    }

    /** The next call of that name throws {@code error} as it is made, as building a request too big for the heap does. */
    void throwNext(String call, Error error) {
      thrown.computeIfAbsent(call, c -> new ArrayDeque<>()).add(error);
    }

    private <T> Future<T> answer(String call, String event, Supplier<T> result) {
      Error error = thrown.getOrDefault(call, new ArrayDeque<>()).poll();
      if (error != null) {
        events.add(event + " threw");
        throw error;
      }
      events.add(event);
      Runnable hook = hooks.remove(call);
      if (hook != null) {
        hook.run();
      }
      Promise<T> promise = Promise.promise();
      String failure = failures.getOrDefault(call, new ArrayDeque<>()).poll();
      if (failure != null) {
        clock.setTimer(0, () -> promise.fail(new IllegalStateException(failure)));
      } else {
        T value = result.get(); // applied when called, as Redis would, and answered later
        if (withheld.contains(call)) {
          withheldAnswers.add(() -> promise.complete(value));
        } else {
          clock.setTimer(0, () -> promise.complete(value));
        }
      }
      return promise.future();
    }

    /** Up to {@code count} fresh entries of each of {@code envs}, as XREADGROUP over their streams. */
    private List<QueueEntry> take(int count, Collection<String> envs) {
      List<QueueEntry> claimed = new ArrayList<>();
      for (String env : envs) {
        List<QueueEntry> ofEnv = fresh.stream().filter(e -> e.env().equals(env)).limit(count).toList();
        fresh.removeAll(ofEnv);
        claimed.addAll(ofEnv);
      }
      held.addAll(claimed);
      return claimed;
    }

    @Override
    public String consumer() {
      return "memory";
    }

    @Override
    public Future<Void> ensureGroups(Collection<String> envs) {
      return answer("ensureGroup", "ensureGroup" + named(envs), () -> null);
    }

    @Override
    public Future<List<QueueEntry>> claimPending(int count, Collection<String> envs) {
      return answer("claimPending", "claimPending" + named(envs),
          () -> held.stream().filter(e -> envs.contains(e.env())).toList());
    }

    @Override
    public Future<List<QueueEntry>> claimNew(int count, Collection<String> envs) {
      String event = "claimNew " + count + named(envs);
      boolean any = fresh.stream().anyMatch(e -> envs.contains(e.env()));
      if (!any && failures.getOrDefault("claimNew", new ArrayDeque<>()).isEmpty()) {
        events.add(event);
        waitingClaim = Promise.promise();
        waitingCount = count;
        waitingEnvs = List.copyOf(envs);
        return waitingClaim.future();
      }
      return answer("claimNew", event, () -> take(count, envs));
    }

    @Override
    public Future<List<StartedTask>> start(List<QueueEntry> entries) {
      return answer("start", "start " + ids(entries), () -> entries.stream()
          .map(e -> new StartedTask(e, new TaskSpec(e.taskId(), "f", "fn", "args", null, e.env()), 1)).toList());
    }

    @Override
    public Future<Void> finish(List<FinishedTask> outcomes) {
      return answer("finish", "finish " + ids(outcomes.stream().map(FinishedTask::entry).toList()), () -> {
        for (FinishedTask outcome : outcomes) {
          held.remove(outcome.entry());
          finished.add(outcome.entry().taskId());
          stored.put(outcome.entry().taskId(), outcome.outcome());
        }
        return null;
      });
    }

    @Override
    public Future<Void> storeOutput(String taskId, TaskOutput output) {
      return answer("storeOutput", "storeOutput " + taskId + " " + output.stdout().strip(), () -> null);
    }

    @Override
    public Future<Void> refresh(Collection<String> envs) {
      return answer("refresh", "refresh" + named(envs), () -> null);
    }

    @Override
    public Future<List<QueueEntry>> takeOver(int count, Collection<String> envs) {
      return answer("takeOver", "takeOver " + count + named(envs), () -> {
        List<QueueEntry> taken = new ArrayList<>();
        while (taken.size() < count && !orphans.isEmpty()) {
          taken.add(orphans.poll());
        }
        held.addAll(taken);
        return taken;
      });
    }
  }

  /**
   * A backend of {@code slots} that runs each task until the test completes or loses it; it offers the default
   * environment, and those the test adds (sharing the slots).
   */
  final class MemoryBackend implements ExecutionBackend {
    final Map<String, Promise<Execution>> running = new LinkedHashMap<>();
    final Set<String> envs = new LinkedHashSet<>(List.of(Environments.DEFAULT));
    /** Offered environments whose interpreters have no room whatever the slots say. */
    final Set<String> full = new LinkedHashSet<>();
    private int slots;
    private Runnable roomListener = () -> {};
    private BiConsumer<String, TaskOutput> outputListener = (taskId, output) -> {};

    MemoryBackend(int slots) {
      this.slots = slots;
    }

    /** A worker of {@code more} slots registers (or, negative, leaves). */
    void resize(int more) {
      events.add("slots " + (slots + more));
      slots += more;
      roomListener.run();
    }

    void complete(String taskId) {
      completeWith(taskId, TaskOutcome.success("result of " + taskId));
    }

    void completeWith(String taskId, TaskOutcome outcome) {
      events.add("done " + taskId);
      running.remove(taskId).complete(new Execution("memory/0", outcome));
      roomListener.run();
    }

    @Override
    public void cancel(String taskId) {
      events.add("cancel " + taskId);
      Promise<Execution> execution = running.remove(taskId);
      if (execution != null) {
        events.add("done " + taskId);
        execution.complete(new Execution("memory/0", TaskOutcome.CANCELLED));
        roomListener.run();
      }
    }

    void print(String taskId, String stdout) {
      events.add("print " + taskId);
      outputListener.accept(taskId, new TaskOutput(stdout, "", false));
    }

    void lose(String taskId) {
      events.add("lost " + taskId);
      running.remove(taskId).fail(new WorkerLostException("the worker went away"));
      roomListener.run();
    }

    @Override
    public int room() {
      return slots - running.size();
    }

    @Override
    public boolean hasWorkers() {
      return slots > 0;
    }

    @Override
    public int room(String env) {
      return envs.contains(env) && !full.contains(env) ? room() : 0;
    }

    @Override
    public Set<String> envs() {
      return envs;
    }

    /** Offers one more environment, as when a worker that has it registers. */
    void offer(String env) {
      envs.add(env);
      roomListener.run();
    }

    @Override
    public void onRoom(Runnable listener) {
      roomListener = listener;
    }

    @Override
    public void onOutput(BiConsumer<String, TaskOutput> listener) {
      outputListener = listener;
    }

    @Override
    public Future<Execution> run(TaskSpec task) {
      if (!envs.contains(task.env())) {
        throw new AssertionError("task " + task.taskId() + " of environment " + task.env() + " handed to a backend "
            + "that offers only " + envs);
      }
      events.add("run " + task.taskId());
      Promise<Execution> execution = Promise.promise();
      running.put(task.taskId(), execution);
      return execution.future();
    }

    @Override
    public JsonArray workers() {
      return new JsonArray();
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
