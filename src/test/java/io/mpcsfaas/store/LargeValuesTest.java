package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.store.TaskStore.Creation;
import io.mpcsfaas.store.TaskStore.NewTask;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Payloads and results over LargeValues.INLINE bytes, written beside the scripts, against a real Redis. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LargeValuesTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  String fid;
  TaskQueue queue;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.doubling();
  }

  @BeforeEach
  void registerAFunction() {
    fid = register("double", payloads.getString("fn"));
    queue = queue("d1");
  }

  private static String big(char c) {
    return String.valueOf(c).repeat(LargeValues.INLINE + 1000);
  }

  private StartedTask startOne(String taskId) {
    return startOne(queue, taskId);
  }

  private static StartedTask startOne(TaskQueue queue, String taskId) {
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    return await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
  }

  @Test
  void aBigPayloadIsQueuedWithTheTaskKeptForeverAndStartedWhole() {
    String payload = big('p');
    String taskId = submit(fid, payload, null);
    assertEquals(payload, hash(taskId).get("payload"));
    assertEquals("QUEUED", hash(taskId).get("status"));
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(taskId)).toInteger(), "the orphan expiry is removed");
    StartedTask started = startOne(taskId);
    assertEquals(payload, started.spec().argsPayload());
    assertEquals(payloads.getString("fn"), started.spec().functionPayload());
  }

  @Test
  void aRefusedBigPayloadLeavesNothing() {
    String unknown = UUID.randomUUID().toString();
    assertTrue(TestRedis.awaitFailure(store.createTasks(unknown, List.of(big('p')), null))
        instanceof NotFoundException);
    TestRedis.eventually(Duration.ofSeconds(5), "the refused payload deleted",
        () -> TestRedis.countKeys(redis, keys.task("*")) == 0);
  }

  @Test
  void aBigResultIsStoredOnceAndALateDuplicateNeverOverwritesIt() {
    String taskId = submit(fid, payloads.getString("args"), null);
    StartedTask started = startOne(taskId);
    QueueEntry entry = started.entry();
    String first = big('r');
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, first, null, "w1")));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, big('l'), "late", "w2")),
        "a late duplicate is refused");
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, first, null, "w1")),
        "the same outcome finished again is refused too");
    Map<String, String> hash = hash(taskId);
    assertEquals("COMPLETED", hash.get("status"));
    assertEquals("w1", hash.get("worker"));
    assertEquals(first, hash.get("result"));
    assertEquals(first, await(store.task(taskId)).result());
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  /** A room that admits nothing, and records the lengths it was asked about. */
  private static LongPredicate noRoom(List<Long> asked) {
    return length -> {
      asked.add(length);
      return false;
    };
  }

  @Test
  void aBigResultIsTakenOnlyWhenTheReaderHasRoomForItsLength() {
    QueueEntry entry = startOne(submit(fid, payloads.getString("args"), null)).entry();
    String result = big('r');
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result, null, "w1")));
    List<Long> asked = new ArrayList<>();
    TaskRecord refused = await(store.task(entry.taskId(), Tenant.NONE, noRoom(asked)));
    assertEquals(List.of((long) result.length()), asked, "asked once, with the result's length");
    assertTrue(refused.resultOmitted());
    assertNull(refused.result());
    assertEquals(TaskStatus.COMPLETED, refused.status());
    assertEquals("w1", refused.worker(), "the rest of the task is read all the same");
    TaskRecord admitted = await(store.task(entry.taskId(), Tenant.NONE, length -> true));
    assertFalse(admitted.resultOmitted());
    assertEquals(result, admitted.result());
  }

  @Test
  void aReadOfManyTasksGivesEachItsOwnResult() {
    List<String> ids = new ArrayList<>();
    for (String result : List.of("YQ==", "", big('b'), "Yw==")) { // "": a task still queued
      String taskId = submit(fid, payloads.getString("args"), null);
      if (!result.isEmpty()) {
        assertTrue(await(TaskSteps.finish(queue, startOne(taskId).entry(), TaskStatus.COMPLETED, result, null, "w")));
      }
      ids.add(taskId);
    }
    List<TaskRecord> read = await(store.tasks(ids, Tenant.NONE));
    assertEquals("YQ==", read.get(0).result());
    assertEquals(TaskStatus.QUEUED, read.get(1).status());
    assertNull(read.get(1).result());
    assertTrue(big('b').equals(read.get(2).result()));
    assertEquals("Yw==", read.get(3).result());
  }

  @Test
  void aSmallResultOrATaskStillRunningNeverAsksForRoom() {
    String small = submit(fid, payloads.getString("args"), null);
    assertTrue(await(TaskSteps.finish(queue, startOne(small).entry(), TaskStatus.COMPLETED, "c21hbGw=", null, "w")));
    String running = submit(fid, payloads.getString("args"), null);
    startOne(running);
    cmd(redis, Command.HSET, keys.task(running), "result", big('s')); // as a big result is staged before its end
    List<Long> asked = new ArrayList<>();
    List<TaskRecord> read = await(store.tasks(List.of(small, running), Tenant.NONE, noRoom(asked)));
    assertEquals(List.of(), asked);
    assertEquals("c21hbGw=", read.get(0).result());
    assertEquals(TaskStatus.RUNNING, read.get(1).status());
    assertNull(read.get(1).result(), "a result not yet the task's is not read");
    assertFalse(read.get(1).resultOmitted());
  }

  /** Pieces of a value stored in pieces here: long enough to travel beside the scripts, short enough to test. */
  private static final int PIECE = LargeValues.INLINE + 4321;

  private TaskStore storeInPieces() {
    return new TaskStore(redis, keys, 0, ReplicaWait.NONE, Handover.NONE, PIECE);
  }

  private TaskQueue queueInPieces() {
    return new TaskQueue(redis, keys, "d1", 0, ReplicaWait.NONE, Handover.NONE, PIECE);
  }

  /** The queue entry of a new task that {@code queue} started. */
  private QueueEntry startedBy(TaskQueue queue) {
    return startOne(queue, submit(fid, payloads.getString("args"), null)).entry();
  }

  /** A new task that a queue storing values in pieces started and ended with {@code result}. */
  private String endedInPieces(String result) {
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startedBy(queue);
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result, null, "w1")));
    return entry.taskId();
  }

  /** A value of two and a half pieces, each piece of other characters, so that a piece out of place shows. */
  private static String threePieces(char first) {
    return String.valueOf(first).repeat(PIECE) + String.valueOf((char) (first + 1)).repeat(PIECE)
        + String.valueOf((char) (first + 2)).repeat(PIECE / 2);
  }

  @Test
  void aPayloadLongerThanAPieceIsStoredInPiecesAndStartedWhole() {
    String payload = threePieces('a');
    String taskId = await(TaskSteps.createTask(storeInPieces(), fid, payload, null));
    Map<String, String> hash = hash(taskId);
    assertEquals(payload.substring(0, PIECE), hash.get("payload"));
    assertEquals("3", hash.get("payload_pieces"));
    assertEquals(payload.substring(PIECE, 2 * PIECE), hash.get("payload_1"));
    assertEquals(payload.substring(2 * PIECE), hash.get("payload_2"));
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(taskId)).toInteger(), "the orphan expiry is removed");
    assertEquals(payload, startOne(queueInPieces(), taskId).spec().argsPayload());
  }

  /** The fields of a task's hash that hold its arguments, given in three pieces. */
  private static final List<String> ARGUMENT_FIELDS = List.of("payload", "payload_pieces", "payload_1", "payload_2");

  /** A task whose arguments, of three pieces, a queue storing values in pieces started. */
  private QueueEntry startedWithArgumentsInPieces(TaskQueue queue, Retries retries) {
    String taskId = await(storeInPieces().createTasks(fid, List.of(threePieces('a')), null, retries, Tenant.NONE))
        .get(0);
    assertTrue(hash(taskId).keySet().containsAll(ARGUMENT_FIELDS));
    return startOne(queue, taskId).entry();
  }

  private void assertArgumentsGone(String taskId) {
    Map<String, String> hash = hash(taskId);
    for (String field : ARGUMENT_FIELDS) {
      assertFalse(hash.containsKey(field), field);
    }
  }

  @Test
  void anEndedTaskKeepsItsResultAndDropsItsArgumentsWithAllTheirPieces() {
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startedWithArgumentsInPieces(queue, Retries.UNSET);
    String result = threePieces('r');
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result, null, "w1")));
    assertArgumentsGone(entry.taskId());
    assertEquals(result, await(store.task(entry.taskId())).result());
  }

  @Test
  void aCancelledTaskDropsItsArgumentsWithAllTheirPieces() {
    QueueEntry entry = startedWithArgumentsInPieces(queueInPieces(), Retries.UNSET);
    assertEquals(List.of(TaskStore.CancelAnswer.CANCELLED), await(store.cancel(List.of(entry.taskId()),
        TaskOutcome.CANCELLED.result(), TaskOutcome.CANCELLED.error(), Tenant.NONE)));
    assertArgumentsGone(entry.taskId());
  }

  @Test
  void aBigTasksQueueEntriesCarryTheLengthOfItsArgumentsForTheDispatchersHeap() {
    String small = submit(fid, payloads.getString("args"), null);
    assertEquals(0, TaskSteps.claim(queue, small).get(small).bytes(), "short arguments: nothing said");
    String whole = submit(fid, big('p'), null);
    assertEquals(big('p').length(), TaskSteps.claim(queue, whole).get(whole).bytes());
    TaskQueue inPieces = queueInPieces();
    QueueEntry entry = startedWithArgumentsInPieces(inPieces, new Retries(1, null));
    assertEquals(threePieces('a').length(), entry.bytes(), "in pieces: all of them");
    assertFalse(await(TaskSteps.finish(inPieces, entry, TaskStatus.FAILED, "ZXJy", "boom", "w1")), "it goes again");
    assertEquals(threePieces('a').length(), TaskSteps.claim(inPieces, entry.taskId()).get(entry.taskId()).bytes(),
        "so does a retry's");
  }

  /** Arguments uploaded in their pieces for a task of id {@code taskId}, each written once the one before was. */
  private ArgumentUpload upload(String taskId, String payload) {
    ArgumentUpload upload = storeInPieces().upload(taskId, payload.length());
    for (int at = 0, i = 0; at < payload.length(); at += upload.pieceLength(i++)) {
      await(upload.write(payload.substring(at, at + upload.pieceLength(i)).getBytes(StandardCharsets.US_ASCII)));
    }
    return upload;
  }

  @Test
  void uploadedArgumentsAreKeptWhileUploadedThenCreatedQueuedWithTheirLengthAndStartedWhole() {
    String taskId = TaskStore.newTaskId();
    String payload = threePieces('a');
    upload(taskId, payload);
    Map<String, String> hash = hash(taskId);
    assertEquals(payload.substring(0, PIECE), hash.get("payload"));
    assertEquals("3", hash.get("payload_pieces"));
    assertEquals(payload.substring(2 * PIECE), hash.get("payload_2"));
    assertTrue(cmd(redis, Command.TTL, keys.task(taskId)).toInteger() > 0, "they expire if no task is created");

    List<Creation> created = await(storeInPieces().create(List.of(
        NewTask.uploaded(taskId, fid, null, Retries.UNSET, Tenant.NONE))));
    assertEquals(List.of(Creation.CREATED), created);
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(taskId)).toInteger(), "the orphan expiry is removed");
    TaskQueue queue = queueInPieces();
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    assertEquals(payload.length(), entry.bytes());
    assertEquals(payload, await(TaskSteps.start(queue, entry, "w", 3, "x", "y")).spec().argsPayload());
  }

  @Test
  void uploadedArgumentsOfATaskRefusedOrNeverCreatedLeaveNothing() {
    String refused = TaskStore.newTaskId();
    upload(refused, threePieces('a'));
    List<Creation> created = await(storeInPieces().create(List.of(
        NewTask.uploaded(refused, UUID.randomUUID().toString(), null, Retries.UNSET, Tenant.NONE))));
    assertEquals(List.of(Creation.UNKNOWN_FUNCTION), created);
    String abandoned = TaskStore.newTaskId();
    upload(abandoned, threePieces('d')).abandon();
    TestRedis.eventually(Duration.ofSeconds(5), "both deleted",
        () -> TestRedis.countKeys(redis, keys.task("*")) == 0);
  }

  @Test
  void anAbandonedUploadDeletesWhatItWroteOnceTheWriteInFlightSettledAndWritesNoMore() {
    String payload = threePieces('a');
    ArgumentUpload upload = storeInPieces().upload(TaskStore.newTaskId(), payload.length());
    var inFlight = upload.write(payload.substring(0, PIECE).getBytes(StandardCharsets.US_ASCII));
    upload.abandon();
    await(inFlight);
    assertTrue(TestRedis.awaitFailure(upload.write(payload.substring(PIECE, 2 * PIECE)
        .getBytes(StandardCharsets.US_ASCII))) instanceof IllegalStateException, "no piece after");
    TestRedis.eventually(Duration.ofSeconds(5), "what was written deleted",
        () -> TestRedis.countKeys(redis, keys.task("*")) == 0);
  }

  @Test
  void anUploadTakesItsPiecesInTheirLengthsAndNoMore() {
    String payload = threePieces('a');
    ArgumentUpload upload = storeInPieces().upload(TaskStore.newTaskId(), payload.length());
    assertThrows(IllegalArgumentException.class, () -> upload.write(new byte[PIECE - 1]), "a piece too short");
    await(upload.write(new byte[PIECE]));
    await(upload.write(new byte[PIECE]));
    assertThrows(IllegalArgumentException.class, () -> upload.write(new byte[PIECE]), "the last is shorter");
    await(upload.write(new byte[PIECE / 2]));
    assertThrows(IllegalArgumentException.class, () -> upload.write(new byte[PIECE / 2]), "no more than all");
    upload.abandon();
  }

  @Test
  void aFailureRetriedKeepsTheArgumentsItsNextRunStartsWith() {
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startedWithArgumentsInPieces(queue, new Retries(1, null));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, "ZXJy", "boom", "w1")), "it goes again");
    assertEquals(threePieces('a'), startOne(queue, entry.taskId()).spec().argsPayload());
  }

  @Test
  void aResultLongerThanAPieceIsStoredInPiecesAndReadWhole() {
    String result = threePieces('r');
    String taskId = endedInPieces(result);
    Map<String, String> hash = hash(taskId);
    assertEquals("COMPLETED", hash.get("status"));
    assertEquals("3", hash.get("result_pieces"));
    assertEquals(result.substring(0, PIECE), hash.get("result"));
    assertEquals(result, await(store.task(taskId)).result(), "any store reads it whole: the count says how");
    assertEquals(result, await(store.tasks(List.of(taskId), Tenant.NONE)).get(0).result());
  }

  @Test
  void aValueInPiecesIsReadOnePieceAReplyAndNoneOnceItsTaskIsGone() {
    String result = threePieces('r');
    String key = keys.task(endedInPieces(result));
    Response first = cmd(redis, Command.HMGET, key, "result", "result_pieces");
    long reads = TestRedis.calls(redis, "hget", "hmget");
    assertEquals(result, await(LargeValues.whole(redis, key, "result", first.get(0), first.get(1))));
    assertEquals(2, TestRedis.calls(redis, "hget", "hmget") - reads, "the second and third pieces, a read each");
    cmd(redis, Command.DEL, key);
    assertNull(await(LargeValues.whole(redis, key, "result", first.get(0), first.get(1))),
        "a task deleted between the reads");
  }

  @Test
  void theRoomForAResultInPiecesIsAskedForAllItsPieces() {
    String result = threePieces('r');
    String taskId = endedInPieces(result);
    List<Long> asked = new ArrayList<>();
    assertTrue(await(store.task(taskId, Tenant.NONE, noRoom(asked))).resultOmitted());
    assertEquals(List.of((long) result.length()), asked);
    long lengthsRead = TestRedis.calls(redis, "hstrlen");
    assertEquals(result, await(store.task(taskId, Tenant.NONE, length -> true)).result());
    assertEquals(3, TestRedis.calls(redis, "hstrlen") - lengthsRead, "each piece's length read once");
  }

  @Test
  void aLateDuplicateNeverWritesPiecesOfTheResultStored() {
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startedBy(queue);
    String taskId = entry.taskId();
    String first = threePieces('a');
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, first, null, "w1")));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, threePieces('x'), null, "w2")));
    assertEquals(first, await(store.task(taskId)).result());
  }

  @Test
  void anOutcomeFinishedAgainWritesThePiecesItsFirstCallDidNot() {
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startedBy(queue);
    String taskId = entry.taskId();
    String result = threePieces('r');
    // the first call's transaction went through, and then the call failed: no other pieces, no script
    cmd(redis, Command.HSET, keys.task(taskId), "result_owner", entry.entryId() + "/w1",
        "result", result.substring(0, PIECE), "result_pieces", "3");
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result, null, "w1")));
    assertEquals(result, await(store.task(taskId)).result());
  }

  @Test
  void aFailureInPiecesThatIsRetriedLeavesNoPieceBehind() {
    String taskId = await(store.createTasks(fid, List.of(payloads.getString("args")), null, new Retries(1, null),
        Tenant.NONE)).get(0);
    TaskQueue queue = queueInPieces();
    QueueEntry entry = startOne(queue, taskId).entry();
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, threePieces('e'), "boom", "w1")),
        "not stored: it goes again");
    Map<String, String> hash = hash(taskId);
    assertEquals("QUEUED", hash.get("status"));
    for (String field : List.of("result", "result_owner", "result_pieces", "result_1", "result_2")) {
      assertFalse(hash.containsKey(field), field);
    }
  }

  /** A result in pieces staged by an outcome that never ended its task (its dispatcher was lost). */
  private void stageByALostRun(String taskId) {
    cmd(redis, Command.HSET, keys.task(taskId), "result_owner", "lost", "result", "QUJD".repeat(PIECE / 4),
        "result_pieces", "3", "result_1", "QUJD", "result_2", "QUJD");
  }

  @Test
  void anEndWithoutThePiecesStagedByALostRunDropsThem() {
    String finished = submit(fid, payloads.getString("args"), null);
    String cancelled = submit(fid, payloads.getString("args"), null);
    String exhausted = submit(fid, payloads.getString("args"), null);
    Map<String, QueueEntry> claimed = TaskSteps.claim(queue, finished, exhausted);
    QueueEntry entry = await(TaskSteps.start(queue, claimed.get(finished), "w", 3, "x", "y")).entry();
    QueueEntry lost = await(TaskSteps.start(queue, claimed.get(exhausted), "w", 3, "x", "y")).entry();
    for (String taskId : List.of(finished, cancelled, exhausted)) {
      stageByALostRun(taskId);
    }
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, "c21hbGw=", null, "w1")));
    await(store.cancel(List.of(cancelled), "Y2FuY2VsbGVk", "cancelled", Tenant.NONE));
    for (int attempt = 2; attempt <= 3; attempt++) { // its worker lost each time: the next start fails it
      assertNotNull(await(TaskSteps.start(queue, lost, "w", 3, "x", "y")));
    }
    assertNull(await(TaskSteps.start(queue, lost, "w", 3, "x", "y")));
    for (String taskId : List.of(finished, cancelled, exhausted)) {
      Map<String, String> hash = hash(taskId);
      for (String piece : List.of("result_pieces", "result_1", "result_2")) {
        assertFalse(hash.containsKey(piece), taskId + " keeps " + piece);
      }
    }
    assertEquals("c21hbGw=", await(store.task(finished)).result());
    assertEquals("Y2FuY2VsbGVk", await(store.task(cancelled)).result());
    assertEquals("x", await(store.task(exhausted)).result());
  }

  @Test
  void aResultLongerThanThePlatformStoresFailsItsTaskSayingSo() {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(taskId).entry();
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, "QUJD".repeat((int) (RedisConfig.MAX_VALUE / 4) + 1),
        null, "w1")));
    TaskRecord task = await(store.task(taskId));
    assertEquals(TaskStatus.FAILED, task.status());
    assertTrue(task.error().contains("over the " + (RedisConfig.MAX_VALUE >> 20) + " MiB a stored value may have"),
        task.error());
    assertTrue(task.result().length() < LargeValues.INLINE, "the exception is stored, not the result");
  }

  @Test
  void aBigResultStagedByTheLoserOfARaceIsNotTheOneStored() {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(taskId).entry();
    // another outcome of the task staged its result and has not run its script yet
    cmd(redis, Command.HSET, keys.task(taskId), "result_owner", "other", "result", big('o'));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    assertEquals("RUNNING", hash(taskId).get("status"), "the owner of the staged result ends it, not this one");
    assertEquals(big('o'), hash(taskId).get("result"));
  }

  @Test
  void aBigResultOfATaskGoneMeanwhileLeavesNothing() {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(taskId).entry();
    cmd(redis, Command.DEL, keys.task(taskId));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    assertTrue(hash(taskId).isEmpty());
  }

  @Test
  void aBigFailureWithRetriesLeftQueuesTheTaskAgainWithoutIt() {
    String taskId = await(store.createTasks(fid, List.of(payloads.getString("args")), null, new Retries(1, null),
        Tenant.NONE)).get(0);
    QueueEntry entry = startOne(taskId).entry();
    TaskOutcome failure = new TaskOutcome(false, big('e'), "boom", io.mpcsfaas.task.TaskOutput.NONE);
    await(queue.finish(List.of(new FinishedTask(entry, failure, "w1"))));
    Map<String, String> hash = hash(taskId);
    assertEquals("QUEUED", hash.get("status"));
    assertNull(hash.get("result"));
    assertNull(hash.get("result_owner"));
  }

  /** A store and a queue that share a handover, as the API and the dispatcher of one JVM do. */
  private record OneJvm(Handover handover, TaskStore store, TaskQueue queue) {}

  private OneJvm oneJvm() {
    Handover handover = new Handover(1L << 30, System::nanoTime);
    return new OneJvm(handover, new TaskStore(redis, keys, 0, ReplicaWait.NONE, handover),
        new TaskQueue(redis, keys, "d1", 0, ReplicaWait.NONE, handover));
  }

  /** A new task that ran on {@code jvm}'s queue and ended with big('r'), handed over. */
  private String endedWithABigResult(OneJvm jvm) {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(jvm.queue(), taskId).entry();
    assertTrue(await(TaskSteps.finish(jvm.queue(), entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    return taskId;
  }

  @Test
  void aBigPayloadHandedOverStartsWithoutBeingReadBackAndARestartReadsRedis() {
    OneJvm jvm = oneJvm();
    String payload = big('p');
    String taskId = submit(jvm.store(), payload);
    assertTrue(payload.equals(hash(taskId).get("payload")), "Redis has it all the same");
    cmd(redis, Command.HSET, keys.task(taskId), "payload", big('q')); // tells where the start read it from
    QueueEntry entry = TaskSteps.claim(jvm.queue(), taskId).get(taskId);
    assertTrue(payload.equals(await(TaskSteps.start(jvm.queue(), entry, "w", 3, "x", "y")).spec().argsPayload()),
        "the handed over payload");
    assertTrue(big('q').equals(await(TaskSteps.start(jvm.queue(), entry, "w", 3, "x", "y")).spec().argsPayload()),
        "taken once: the task started again (its worker lost) reads Redis");
  }

  @Test
  void aBigPayloadRefusedIsNotLeftInTheHandover() {
    OneJvm jvm = oneJvm();
    String taskId = TaskStore.newTaskId();
    String unknown = UUID.randomUUID().toString();
    assertEquals(List.of(TaskStore.Creation.UNKNOWN_FUNCTION), await(jvm.store().create(List.of(
        new TaskStore.NewTask(taskId, unknown, big('p'), null, Retries.UNSET, Tenant.NONE)))));
    assertNull(jvm.handover().takeArguments(taskId));
  }

  @Test
  void aBigResultHandedOverIsAnsweredWithoutBeingReadBackOnce() {
    OneJvm jvm = oneJvm();
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(jvm.queue(), taskId).entry();
    String result = big('r');
    assertTrue(await(TaskSteps.finish(jvm.queue(), entry, TaskStatus.COMPLETED, result, null, "w1")));
    assertTrue(result.equals(hash(taskId).get("result")), "Redis has it all the same");
    cmd(redis, Command.HSET, keys.task(taskId), "result", big('c')); // tells where the read took it from
    TaskRecord answered = await(jvm.store().task(taskId));
    assertTrue(result.equals(answered.result()), "the handed over result");
    assertEquals(TaskStatus.COMPLETED, answered.status());
    assertEquals("w1", answered.worker());
    assertTrue(big('c').equals(await(jvm.store().task(taskId)).result()), "taken once: the next read is Redis's");
  }

  @Test
  void aBatchReadOfTasksTakesTheHandedOverResultToo() {
    OneJvm jvm = oneJvm();
    String big = submit(fid, payloads.getString("args"), null);
    String small = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(jvm.queue(), big).entry();
    assertTrue(await(TaskSteps.finish(jvm.queue(), entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    cmd(redis, Command.HSET, keys.task(big), "result", big('c')); // tells where the read took it from
    List<TaskRecord> read = await(jvm.store().tasks(List.of(small, big), Tenant.NONE));
    assertEquals(TaskStatus.QUEUED, read.get(0).status());
    assertTrue(big('r').equals(read.get(1).result()), "the handed over result, as POST /results reads it");
    assertFalse(jvm.handover().holdsResult(big));
  }

  @Test
  void aHandedOverResultTheReaderHasNoRoomForIsDroppedAndReadFromRedisLater() {
    OneJvm jvm = oneJvm();
    String taskId = endedWithABigResult(jvm);
    List<Long> asked = new ArrayList<>();
    assertTrue(await(jvm.store().task(taskId, Tenant.NONE, noRoom(asked))).resultOmitted());
    assertEquals(List.of((long) big('r').length()), asked);
    assertFalse(jvm.handover().holdsResult(taskId), "not held for a later read that may never come");
    assertTrue(big('r').equals(await(jvm.store().task(taskId, Tenant.NONE, length -> true)).result()));
  }

  @Test
  void aHandedOverResultIsLeftForItsTenantWhenAnotherAsks() {
    OneJvm jvm = oneJvm();
    Tenant alice = new Tenant("alice", false, 0);
    String own = await(jvm.store().registerFunction("double", payloads.getString("fn"), Retries.UNSET, alice));
    String taskId = await(jvm.store().createTasks(own, List.of(payloads.getString("args")), null, Retries.UNSET,
        alice)).get(0);
    QueueEntry entry = startOne(jvm.queue(), taskId).entry();
    assertTrue(await(TaskSteps.finish(jvm.queue(), entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    assertTrue(TestRedis.awaitFailure(jvm.store().task(taskId, new Tenant("bob", false, 0)))
        instanceof NotFoundException);
    assertTrue(jvm.handover().holdsResult(taskId), "another tenant's read takes nothing");
    assertTrue(big('r').equals(await(jvm.store().task(taskId, alice)).result()));
  }

  @Test
  void aHandedOverResultIsNotAnsweredOnceTheTaskRanAgain() {
    OneJvm jvm = oneJvm();
    String taskId = endedWithABigResult(jvm);
    // as if it had run again and stored another big result
    cmd(redis, Command.HSET, keys.task(taskId), "result_owner", "9-0/w2", "result", big('s'));
    assertTrue(big('s').equals(await(jvm.store().task(taskId)).result()), "the result Redis holds now");
    assertFalse(jvm.handover().holdsResult(taskId), "dropped, not kept for a later read");
  }

  @Test
  void aBigResultIsHandedOverBeforeItsTaskIsAnnounced() throws Exception {
    CountDownLatch heard = new CountDownLatch(1);
    // The handover's clock, read as it takes the result, waits for an announcement made before it: none comes
    // (the wait ends after a second), else the handler below finds the result not held yet.
    Handover handover = new Handover(1L << 30, () -> {
      try {
        heard.await(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return System.nanoTime();
    });
    TaskQueue queue = new TaskQueue(redis, keys, "d1", 0, ReplicaWait.NONE, handover);
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(queue, taskId).entry();
    List<Boolean> heldWhenAnnounced = new CopyOnWriteArrayList<>();
    Promise<Void> subscribed = Promise.promise();
    // A Vert.x of its own, so that no wait of the clock holds up the thread that hears the announcement.
    Vertx listener = Vertx.vertx();
    Subscription done = new Subscription(listener, shared.server().client(listener), keys.doneChannel(), message -> {
      heldWhenAnnounced.add(handover.holdsResult(TaskCodec.doneTaskId(message)));
      heard.countDown();
    }, subscribed::tryComplete);
    Context context = listener.getOrCreateContext();
    context.runOnContext(v -> done.start());
    try {
      await(subscribed.future());
      assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
      TestRedis.eventually(Duration.ofSeconds(10), "the announcement", () -> !heldWhenAnnounced.isEmpty());
      assertEquals(List.of(true), heldWhenAnnounced);
    } finally {
      context.runOnContext(v -> done.close());
      await(listener.close());
    }
  }

  private String submit(TaskStore shared, String payload) {
    return await(TaskSteps.createTask(shared, fid, payload, null));
  }
}
