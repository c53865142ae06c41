package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.TaskStore.CancelAnswer;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Cancels and retries as the Lua scripts carry them out, against a real Redis, times given as script arguments. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelAndRetryTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;
  static final String EXHAUSTED = "RuntimeError: gave up";

  String fid;
  TaskQueue queue;

  @BeforeAll
  static void makePayloads() {
    payloads = Py.doubling();
  }

  @BeforeEach
  void registerAFunction() {
    fid = register("double", payloads.getString("fn"));
    queue = queue("d1");
    await(queue.ensureGroup());
  }

  private String submit(Retries retries) {
    return await(store.createTasks(fid, List.of(payloads.getString("args")), null, retries, Tenant.NONE))
        .get(0);
  }

  private CancelAnswer cancel(String id) {
    return await(store.cancel(List.of(id), TaskOutcome.CANCELLED.result(), TaskOutcome.CANCELLED.error(),
        Tenant.NONE)).get(0);
  }

  private QueueEntry claim(String id) {
    return TaskSteps.claim(queue, id).get(id);
  }

  private StartedTask start(QueueEntry entry, int maxAttempts) {
    return await(TaskSteps.start(queue, entry, "w", maxAttempts, payloads.getString("exhausted"), EXHAUSTED));
  }

  private boolean fail(QueueEntry entry, String error) {
    return await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, payloads.getString("error"), error, "w"));
  }

  private boolean complete(QueueEntry entry) {
    return await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w"));
  }

  private long failedCount() {
    Response failed = cmd(redis, Command.HGET, keys.stats(), "failed");
    return failed == null ? 0 : failed.toLong();
  }

  private double dueAt(String id) {
    Response score = cmd(redis, Command.ZSCORE, keys.delayed(), id);
    return score == null ? -1 : Double.parseDouble(score.toString());
  }

  @Test
  void aCancelledQueuedTaskEndsCancelledAndIsNeverStarted() {
    String id = submit(Retries.UNSET);
    assertEquals(1, TestRedis.xlen(redis, keys.queue()));

    assertEquals(CancelAnswer.CANCELLED, cancel(id));
    TaskRecord task = await(store.task(id));
    assertEquals(TaskStatus.FAILED, task.status());
    assertTrue(task.cancelled());
    assertEquals(TaskOutcome.CANCELLED.result(), task.result());
    assertEquals(TaskOutcome.CANCELLED.error(), task.error());
    assertEquals(0, TestRedis.xlen(redis, keys.queue()), "its entry left the queue");
    assertEquals(List.of(), await(queue.claim(10, 100, false)), "no dispatcher gets it");
    assertEquals(1, failedCount());
  }

  @Test
  void aCancelledTaskWhoseEntryWasClaimedAlreadyIsNotStarted() {
    String id = submit(Retries.UNSET);
    QueueEntry entry = claim(id);
    assertEquals(CancelAnswer.CANCELLED, cancel(id));

    assertNull(start(entry, 3));
    assertEquals("FAILED", hash(id).get("status"));
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  @Test
  void aCancelRacingAFinishStoresWhicheverCameFirst() {
    String finishedFirst = submit(Retries.UNSET);
    QueueEntry entry = claim(finishedFirst);
    start(entry, 3);
    assertTrue(complete(entry));
    Map<String, String> ended = hash(finishedFirst);
    assertEquals(CancelAnswer.ENDED, cancel(finishedFirst));
    assertEquals(ended, hash(finishedFirst), "a cancel of an ended task changes nothing");

    String cancelledFirst = submit(Retries.UNSET);
    QueueEntry other = claim(cancelledFirst);
    start(other, 3);
    assertEquals(CancelAnswer.CANCELLED, cancel(cancelledFirst));
    Map<String, String> cancelled = hash(cancelledFirst);
    assertFalse(complete(other), "the run's outcome comes too late");
    assertEquals(cancelled, hash(cancelledFirst));
    assertEquals("1", cancelled.get("cancelled"));
    assertEquals(1, failedCount(), "each end counted once");
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  @Test
  void cancelsOfUnknownAndEndedTasksAnswerSoAndStoreNothing() {
    String unknown = "00000000-0000-0000-0000-000000000000";
    String live = submit(Retries.UNSET);
    List<CancelAnswer> answers = await(store.cancel(List.of(unknown, live, live), "r", "e", Tenant.NONE));

    assertEquals(List.of(CancelAnswer.MISSING, CancelAnswer.CANCELLED, CancelAnswer.ENDED), answers);
    assertFalse(TestRedis.exists(redis, keys.task(unknown)));
  }

  @Test
  void aCancelIsAnnouncedOnTheDoneAndCancelChannels() {
    List<String> cancels = new CopyOnWriteArrayList<>();
    List<String> dones = new CopyOnWriteArrayList<>();
    List<Subscription> subscriptions = new ArrayList<>();
    List<Boolean> subscribed = new CopyOnWriteArrayList<>();
    shared.vertx().runOnContext(v -> {
      subscriptions.add(new Subscription(shared.vertx(), redis, keys.cancelChannel(), cancels::add,
          () -> subscribed.add(true)));
      subscriptions.add(new Subscription(shared.vertx(), redis, keys.doneChannel(), dones::add,
          () -> subscribed.add(true)));
      subscriptions.forEach(Subscription::start);
    });
    TestRedis.eventually(Duration.ofSeconds(10), "both subscribed", () -> subscribed.size() == 2);
    String id = submit(Retries.UNSET);
    cancel(id);
    TestRedis.eventually(Duration.ofSeconds(10), "both announcements", () -> !cancels.isEmpty() && !dones.isEmpty());
    subscriptions.forEach(Subscription::close);

    assertEquals(List.of(id), cancels);
    TaskRecord announced = TaskCodec.fromDoneMessage(dones.get(0));
    assertEquals(await(store.task(id)), announced, "the announcement carries the task as stored");
  }

  @Test
  void aFailingTaskWithTwoRetriesRunsThreeTimesAndEndsFailedWithItsLastTraceback() {
    String id = submit(new Retries(2, 0.0));
    for (int run = 1; run <= 2; run++) {
      QueueEntry entry = claim(id);
      assertEquals(run, start(entry, 3).attempts());
      assertFalse(fail(entry, "Traceback " + run), "run " + run + " goes again");
      Map<String, String> hash = hash(id);
      assertEquals("QUEUED", hash.get("status"));
      assertEquals("Traceback " + run, hash.get("error"));
      assertNull(hash.get("result"));
      assertEquals(0, failedCount(), "a retry is not a failure");
    }
    QueueEntry last = claim(id);
    assertEquals(3, start(last, 3).attempts());
    assertTrue(fail(last, "Traceback 3"));

    TaskRecord task = await(store.task(id));
    assertEquals(TaskStatus.FAILED, task.status());
    assertEquals(3, task.attempts());
    assertEquals("Traceback 3", task.error());
    assertFalse(task.cancelled());
    assertEquals(1, failedCount());
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
  }

  @Test
  void aRetryNeverOverwritesAnEndedTask() {
    String completed = submit(new Retries(3, 0.0));
    QueueEntry entry = claim(completed);
    start(entry, 3);
    assertTrue(complete(entry));
    assertFalse(fail(entry, "a late duplicate"));
    assertEquals("COMPLETED", hash(completed).get("status"));

    String cancelled = submit(new Retries(3, 0.0));
    QueueEntry other = claim(cancelled);
    start(other, 3);
    cancel(cancelled);
    assertFalse(fail(other, "the stopped run"));
    assertEquals("FAILED", hash(cancelled).get("status"));
    assertNull(hash(cancelled).get("retried"), "never retried after a cancel");
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
    assertEquals(-1, dueAt(cancelled));
  }

  @Test
  void aDelayedRetryWaitsInTheDelayedSetUntilThePromoterFindsItDue() {
    String id = submit(new Retries(1, 30.0));
    QueueEntry entry = claim(id);
    start(entry, 3);
    assertFalse(fail(entry, "first"));
    double due = dueAt(id);
    double failedAt = Double.parseDouble(hash(id).get("started_at"));
    assertTrue(due >= failedAt + 30, "due 30 s after the failure: " + due);
    assertEquals(0, TestRedis.xlen(redis, keys.queue()), "not queued before it is due");

    assertEquals(0, await(queue.promoteDue(Double.toString(due - 0.5), 100)));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
    assertEquals(1, await(queue.promoteDue(Double.toString(due), 100)));
    assertEquals(-1, dueAt(id));
    QueueEntry again = claim(id);
    assertEquals(again.entryId(), hash(id).get("entry"), "the new entry is recorded, for a cancel");
    assertEquals(2, start(again, 3).attempts());
  }

  @Test
  void aDelayedRetryCancelledBeforeItIsDueLeavesTheDelayedSetAndNeverRuns() {
    String id = submit(new Retries(1, 30.0));
    QueueEntry entry = claim(id);
    start(entry, 3);
    fail(entry, "first");
    double due = dueAt(id);

    assertEquals(CancelAnswer.CANCELLED, cancel(id));
    assertEquals(-1, dueAt(id));
    assertEquals(0, await(queue.promoteDue(Double.toString(due + 1), 100)));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
  }

  @Test
  void lostWorkersCountSinceTheLastRetry() {
    String id = submit(new Retries(1, 0.0));
    QueueEntry entry = claim(id);
    start(entry, 2);
    fail(entry, "first run");
    QueueEntry retry = claim(id);
    assertEquals(2, start(retry, 2).attempts(), "the retry runs");
    assertEquals(3, start(retry, 2).attempts(), "its worker was lost once: it runs again");
    assertNull(start(retry, 2), "lost twice since the retry: max_attempts 2 used up");
    Map<String, String> hash = hash(id);
    assertEquals("FAILED", hash.get("status"));
    assertEquals(EXHAUSTED, hash.get("error"));
  }

  private boolean indexedAs(String id, String status) {
    return cmd(redis, Command.ZSCORE, keys.statusIndex(status), id) != null;
  }

  @Test
  void theTaskIndexFollowsARetryAndACancel() {
    String id = submit(new Retries(1, 0.0));
    QueueEntry entry = claim(id);
    start(entry, 3);
    assertTrue(indexedAs(id, "RUNNING"));
    fail(entry, "first");
    assertTrue(indexedAs(id, "QUEUED"), "a retry is queued again");
    assertFalse(indexedAs(id, "RUNNING"));
    cancel(id);
    assertTrue(indexedAs(id, "FAILED"));
    assertFalse(indexedAs(id, "QUEUED"));
  }

  @Test
  void tasksTakeTheirFunctionsRetryDefaultsUnlessTheySayOtherwise() {
    fid = await(store.registerFunction("flaky", payloads.getString("fn"), new Retries(3, 1.5),
        Tenant.NONE));
    String byDefault = submit(Retries.UNSET);
    String overridden = submit(new Retries(0, null));
    String plain = await(store.createTasks(register("plain", payloads.getString("fn")),
        List.of(payloads.getString("args")), null)).get(0);

    assertEquals("3", hash(byDefault).get("max_retries"));
    assertEquals("1.5", hash(byDefault).get("retry_delay"));
    assertNull(hash(overridden).get("max_retries"), "0 given: none");
    assertEquals("1.5", hash(overridden).get("retry_delay"));
    assertNull(hash(plain).get("max_retries"));
    assertNull(hash(plain).get("retry_delay"));
  }
}
