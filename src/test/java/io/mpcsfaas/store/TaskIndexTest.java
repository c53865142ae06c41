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
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The task index: kept by the task scripts, paged newest first by status and function, trimmed of expired tasks. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskIndexTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  TaskQueue queue;
  TaskIndex index;
  String fa;
  String fb;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fa'] = enc(lambda x: x * 2)",
        "out['fb'] = enc(lambda x: x * 3)",
        "out['args'] = enc(((21,), {}))",
        "out['result'] = enc(42)",
        "out['error'] = enc(ValueError('bad'))"));
  }

  @BeforeEach
  void fresh() {
    queue = queue("d1");
    index = new TaskIndex(redis, keys);
    fa = register("a", payloads.getString("fa"));
    fb = register("b", payloads.getString("fb"));
    await(queue.ensureGroup());
  }

  private List<String> create(String fid, int n) {
    return await(store.createTasks(fid, Collections.nCopies(n, payloads.getString("args")), null));
  }

  /** Claims every queued entry and starts those of {@code ids}; answers their entries by task id. */
  private Map<String, QueueEntry> start(Set<String> ids) {
    Map<String, QueueEntry> entries = new java.util.HashMap<>();
    for (QueueEntry entry : await(queue.claim(10_000, 0, false))) {
      entries.put(entry.taskId(), entry);
    }
    List<QueueEntry> chosen = entries.values().stream().filter(e -> ids.contains(e.taskId())).toList();
    await(queue.start(chosen, "w1", 3, payloads.getString("error"), "gave up"));
    return entries;
  }

  private void finish(QueueEntry entry, TaskStatus status) {
    assertTrue(await(TaskSteps.finish(queue, entry, status,
        status == TaskStatus.COMPLETED ? payloads.getString("result") : payloads.getString("error"),
        status == TaskStatus.COMPLETED ? null : "ValueError: bad", "w1")));
  }

  /** Every page, followed to the end; checks each page's size and that only the last has no next cursor. */
  private List<TaskIndex.Entry> all(TaskStatus status, String fid, int limit) {
    List<TaskIndex.Entry> out = new ArrayList<>();
    TaskIndex.Cursor cursor = null;
    for (int pages = 0; pages < 1000; pages++) {
      TaskIndex.Page page = await(index.page(Tenant.NONE, status, fid, limit, cursor));
      assertTrue(page.tasks().size() <= limit, "a page holds at most its limit");
      out.addAll(page.tasks());
      if (page.next() == null) {
        return out;
      }
      assertEquals(limit, page.tasks().size(), "only the last page is short");
      cursor = TaskIndex.Cursor.decode(page.next().encode());
    }
    throw new AssertionError("no end of the pages");
  }

  /** The tasks as Redis holds them, newest first (equal times: greater id first), filtered. */
  private List<String> expected(List<String> ids, TaskStatus status, String fid) {
    List<Map<String, String>> tasks = new ArrayList<>();
    for (String id : ids) {
      Map<String, String> t = TestRedis.hash(redis, keys.task(id));
      t.put("id", id);
      if ((status == null || status.name().equals(t.get("status")))
          && (fid == null || fid.equals(t.get("function_id")))) {
        tasks.add(t);
      }
    }
    tasks.sort(Comparator.<Map<String, String>>comparingDouble(t -> Double.parseDouble(t.get("created_at")))
        .thenComparing(t -> t.get("id")).reversed());
    return tasks.stream().map(t -> t.get("id")).toList();
  }

  private static List<String> ids(List<TaskIndex.Entry> entries) {
    return entries.stream().map(TaskIndex.Entry::taskId).toList();
  }

  @Test
  void pagesGoThroughEveryTaskNewestFirstWithTheFiltersCombined() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.addAll(create(fa, 1));
      ids.addAll(create(fb, 1));
    }
    ids.addAll(create(fa, 9)); // one batch: nine tasks created at the same time
    ids.addAll(create(fb, 3));
    // Some run, some end each way.
    Map<String, QueueEntry> entries = start(Set.of(ids.get(0), ids.get(1), ids.get(2), ids.get(9), ids.get(10),
        ids.get(11), ids.get(12), ids.get(18)));
    finish(entries.get(ids.get(0)), TaskStatus.COMPLETED);
    finish(entries.get(ids.get(1)), TaskStatus.FAILED);
    finish(entries.get(ids.get(9)), TaskStatus.FAILED);
    finish(entries.get(ids.get(10)), TaskStatus.COMPLETED);
    finish(entries.get(ids.get(18)), TaskStatus.FAILED);

    List<TaskStatus> statuses = new ArrayList<>(List.of(TaskStatus.values()));
    statuses.add(null);
    for (TaskStatus status : statuses) {
      for (String fid : new String[] {null, fa, fb}) {
        List<String> want = expected(ids, status, fid);
        for (int limit : new int[] {1, 3, 50}) {
          List<TaskIndex.Entry> got = all(status, fid, limit);
          assertEquals(want, ids(got), "status " + status + ", function " + fid + ", limit " + limit);
          for (TaskIndex.Entry e : got) {
            Map<String, String> t = TestRedis.hash(redis, keys.task(e.taskId()));
            assertEquals(t.get("status"), e.status().name());
            assertEquals(t.get("function_id"), e.functionId());
            assertEquals(t.get("created_at"), e.createdAt());
            assertEquals(t.get("started_at"), e.startedAt());
            assertEquals(t.get("finished_at"), e.finishedAt());
            assertEquals(t.get("worker"), e.worker());
            assertEquals(Integer.parseInt(t.get("attempts")), e.attempts());
          }
        }
      }
    }
    assertEquals(3, expected(ids, TaskStatus.FAILED, null).size(), "the test covers every status");
    assertEquals(3, expected(ids, TaskStatus.RUNNING, null).size());
    assertEquals(20, all(null, null, 4).size());
  }

  @Test
  void transitionsMoveATaskBetweenTheStatusSets() {
    String id = create(fa, 1).get(0);
    assertEquals(List.of(id), ids(all(TaskStatus.QUEUED, fa, 10)));
    assertEquals(List.of(), ids(all(TaskStatus.RUNNING, null, 10)));

    QueueEntry entry = start(Set.of(id)).get(id);
    assertEquals(List.of(), ids(all(TaskStatus.QUEUED, null, 10)));
    assertEquals(List.of(), ids(all(TaskStatus.QUEUED, fa, 10)));
    assertEquals(List.of(id), ids(all(TaskStatus.RUNNING, null, 10)));
    assertEquals(List.of(id), ids(all(TaskStatus.RUNNING, fa, 10)));
    assertNull(cmd(redis, Command.ZSCORE, keys.statusIndex("QUEUED"), id));
    assertNull(cmd(redis, Command.ZSCORE, keys.functionStatusIndex(fa, "QUEUED"), id));

    finish(entry, TaskStatus.FAILED);
    assertEquals(List.of(id), ids(all(TaskStatus.FAILED, fa, 10)));
    assertEquals(List.of(), ids(all(TaskStatus.RUNNING, null, 10)));
    assertEquals(List.of(id), ids(all(null, null, 10)), "listed in any status");
    assertEquals(List.of(id), ids(all(null, fa, 10)));
    double created = Double.parseDouble(TestRedis.hash(redis, keys.task(id)).get("created_at"));
    assertEquals(Math.round(created * 1e6), cmd(redis, Command.ZSCORE, keys.functionStatusIndex(fa, "FAILED"), id).toLong(),
        "scored by creation time, in whole microseconds");

    // A late duplicate outcome changes nothing
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w2")));
    assertEquals(List.of(), ids(all(TaskStatus.COMPLETED, null, 10)));
    assertEquals(List.of(id), ids(all(TaskStatus.FAILED, null, 10)));
  }

  @Test
  void aTaskThatRanOutOfAttemptsMovesToFailed() {
    String id = create(fa, 1).get(0);
    QueueEntry entry = start(Set.of(id)).get(id);
    // Its worker was lost three times: the fourth start fails it.
    for (int i = 0; i < 2; i++) {
      assertNotNull(await(TaskSteps.start(queue, entry, "w1", 3, payloads.getString("error"), "gave up")));
    }
    assertNull(await(TaskSteps.start(queue, entry, "w1", 3, payloads.getString("error"), "gave up")));
    assertEquals("FAILED", TestRedis.hash(redis, keys.task(id)).get("status"));
    assertEquals(List.of(id), ids(all(TaskStatus.FAILED, fa, 10)));
    assertEquals(List.of(), ids(all(TaskStatus.RUNNING, fa, 10)));
  }

  @Test
  void aCursorWhoseTaskMovedOnGoesOnWhereItWas() {
    // Twelve tasks created at the same time (one batch): they are ordered by id alone.
    List<String> ids = create(fa, 12);
    List<String> order = expected(ids, TaskStatus.QUEUED, null);
    TaskIndex.Page first = await(index.page(Tenant.NONE, TaskStatus.QUEUED, null, 5, null));
    assertEquals(order.subList(0, 5), ids(first.tasks()));

    start(Set.of(order.get(4), order.get(5))); // the cursor's task and the next leave QUEUED
    TaskIndex.Page second = await(index.page(Tenant.NONE, TaskStatus.QUEUED, null, 5, first.next()));
    assertEquals(order.subList(6, 11), ids(second.tasks()), "neither repeated nor skipped");
    TaskIndex.Page third = await(index.page(Tenant.NONE, TaskStatus.QUEUED, null, 5, second.next()));
    assertEquals(order.subList(11, 12), ids(third.tasks()));
    assertNull(third.next());

    // A cursor from another listing works too: it is a place in time and id order.
    TaskIndex.Page running = await(index.page(Tenant.NONE, TaskStatus.RUNNING, null, 5, first.next()));
    assertEquals(List.of(order.get(5)), ids(running.tasks()));
  }

  @Test
  void aTaskWhoseHashExpiredLeavesThePagesAndTheSetItWasReadFrom() {
    List<String> ids = create(fa, 6);
    List<String> order = expected(ids, null, null);
    cmd(redis, Command.DEL, keys.task(order.get(1)));
    cmd(redis, Command.DEL, keys.task(order.get(2)));

    TaskIndex.Page page = await(index.page(Tenant.NONE, null, fa, 3, null));
    assertEquals(List.of(order.get(0), order.get(3), order.get(4)), ids(page.tasks()), "read past the expired ones");
    assertNull(cmd(redis, Command.ZSCORE, keys.functionStatusIndex(fa, "QUEUED"), order.get(1)),
        "removed from the set read");
    assertNotNull(cmd(redis, Command.ZSCORE, keys.statusIndex("QUEUED"), order.get(1)), "other sets wait for the trim");
    TaskIndex.Page rest = await(index.page(Tenant.NONE, null, fa, 3, page.next()));
    assertEquals(List.of(order.get(5)), ids(rest.tasks()));
    assertNull(rest.next());
    assertEquals(List.of(order.get(0), order.get(3), order.get(4), order.get(5)), ids(all(null, null, 2)));
  }

  @Test
  void theTrimRemovesEveryExpiredTaskFromEverySetAndKeepsTheLiveOnes() {
    List<String> many = create(fa, 1200); // more than a ZADD chunk and than a trim call looks at
    List<String> other = create(fb, 3);
    for (String key : List.of(keys.statusIndex("QUEUED"), keys.functionStatusIndex(fa, "QUEUED"))) {
      assertTrue(cmd(redis, Command.ZCARD, key).toInteger() >= 1200, key);
    }
    Set<String> kept = new HashSet<>(many.subList(0, 100));
    for (String id : many) {
      if (!kept.contains(id)) {
        cmd(redis, Command.DEL, keys.task(id));
      }
    }
    for (String id : other) {
      cmd(redis, Command.DEL, keys.task(id));
    }

    assertEquals(0, await(index.trim(0, 0)), "with a result TTL of 0 nothing expires: nothing to do");
    assertEquals(0, await(index.trimCreatedBefore(1)), "only tasks created before the bound");
    int removed = await(index.trimCreatedBefore(Double.parseDouble(Timestamps.now()) + 1));

    assertEquals(2 * 1100 + 3 * 2, removed, "from the status and function-status sets");
    assertEquals(100, cmd(redis, Command.ZCARD, keys.statusIndex("QUEUED")).toInteger());
    assertEquals(100, cmd(redis, Command.ZCARD, keys.functionStatusIndex(fa, "QUEUED")).toInteger());
    assertEquals(kept, new HashSet<>(ids(all(null, null, 1000))));
    assertFalse(TestRedis.exists(redis, keys.functionStatusIndex(fb, "QUEUED")));
    assertEquals(0, cmd(redis, Command.SISMEMBER, keys.indexedFunctions(), fb).toInteger(),
        "a function without indexed tasks leaves the trim's list");
    assertEquals(1, cmd(redis, Command.SISMEMBER, keys.indexedFunctions(), fa).toInteger());
  }

  /** {@code n} new tasks of a function of {@code tenant}'s. */
  private List<String> tasksOf(Tenant tenant, int n) {
    String fid = await(store.registerFunction("a", payloads.getString("fa"), Retries.UNSET, tenant));
    return await(store.createTasks(fid, Collections.nCopies(n, payloads.getString("args")), null, Retries.UNSET,
        tenant));
  }

  @Test
  void aTenantsTasksHaveSetsOfTheirOwnThatTheTrimKeepsToo() {
    Tenant alice = new Tenant("alice", false, 0);
    List<String> ids = tasksOf(alice, 3);
    create(fa, 2); // of no tenant

    assertEquals(3, cmd(redis, Command.ZCARD, keys.tenantStatusIndex("alice", "QUEUED")).toInteger());
    assertEquals(new HashSet<>(ids), new HashSet<>(ids(await(index.page(alice, null, null, 10, null)).tasks())));
    assertEquals(List.of(), ids(await(index.page(alice, null, fa, 10, null)).tasks()),
        "a function of another tenant (here: of none) lists nothing");
    assertEquals(5, ids(await(index.page(Tenant.NONE, null, null, 10, null)).tasks()).size(),
        "an admin sees all");

    cmd(redis, Command.DEL, keys.task(ids.get(0)));
    await(index.trimCreatedBefore(Double.parseDouble(Timestamps.now()) + 1));
    assertEquals(2, cmd(redis, Command.ZCARD, keys.tenantStatusIndex("alice", "QUEUED")).toInteger());
    ids.subList(1, 3).forEach(id -> cmd(redis, Command.DEL, keys.task(id)));
    await(index.trimCreatedBefore(Double.parseDouble(Timestamps.now()) + 1));
    assertFalse(TestRedis.exists(redis, keys.tenantStatusIndex("alice", "QUEUED")));
    assertEquals(0, cmd(redis, Command.SISMEMBER, keys.indexedTenants(), "alice").toInteger(),
        "a tenant without indexed tasks leaves the trim's list");
  }

  @Test
  void noSetHoldsEveryTaskAndTheTrimRemovesThoseAnOlderVersionKept() {
    List<String> ids = tasksOf(new Tenant("alice", false, 0), 2);
    String fid = TestRedis.hash(redis, keys.task(ids.get(0))).get("function_id");
    String root = keys.index();
    List<String> everyTask = List.of(root, root + ":function:" + fid, root + ":tenant:alice");
    for (String key : everyTask) {
      assertFalse(TestRedis.exists(redis, key), key);
      cmd(redis, Command.ZADD, key, "1", ids.get(0)); // as an older version kept them
    }
    await(index.trimCreatedBefore(Double.parseDouble(Timestamps.now()) + 1));
    for (String key : everyTask) {
      assertFalse(TestRedis.exists(redis, key), key + " removed");
    }
    assertEquals(new HashSet<>(ids), new HashSet<>(ids(all(null, fid, 10))), "the live tasks stay listed");
  }

  @Test
  void onlyCursorsThisIndexGaveAreAccepted() {
    TaskIndex.Cursor cursor = new TaskIndex.Cursor("1700000000.123456", "0b3f8c4e-7a61-4d2b-9a0e-2f1c5d6e7f80");
    assertEquals(cursor, TaskIndex.Cursor.decode(cursor.encode()));
    for (String bad : new String[] {"", "abc", "!!!", b64("1700000000.5"), b64("x:0b3f8c4e-7a61-4d2b-9a0e-2f1c5d6e7f80"),
        b64("1e5:0b3f8c4e-7a61-4d2b-9a0e-2f1c5d6e7f80"), b64("NaN:0b3f8c4e-7a61-4d2b-9a0e-2f1c5d6e7f80"),
        b64("1700000000.5:not-a-uuid"), b64("1700000000.5:0B3F8C4E-7A61-4D2B-9A0E-2F1C5D6E7F80")}) {
      assertThrows(IllegalArgumentException.class, () -> TaskIndex.Cursor.decode(bad), bad);
    }
  }

  private static String b64(String text) {
    return java.util.Base64.getUrlEncoder().encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
