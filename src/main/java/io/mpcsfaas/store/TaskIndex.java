package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The task index: sorted sets of task ids by creation time (per status, per function and status, per tenant
 * and status) that the task scripts keep up to date, read a page at a time, newest first (any status: the
 * four sets merged), and trimmed of the tasks that expired.
 */
public final class TaskIndex {
  private static final Scripts LIST_TASKS = Scripts.load("task_index.lua", "list_tasks.lua");
  private static final Scripts TRIM_INDEX = Scripts.load("task_index.lua", "trim_index.lua");
  /** How often each dispatcher trims the index. */
  public static final long TRIM_PERIOD_MILLIS = 60_000;
  /** Most expired ids one page removes (and reads past) before it answers, short if need be. */
  private static final int MAX_EXPIRED_PER_PAGE = 1000;
  /** Ids a trim call looks at per set, and function ids per call: each call holds Redis for a short while. */
  private static final int TRIM_BATCH = 200;
  private static final int TRIM_FUNCTIONS = 10;
  /** Calls of one trim, at most; the next trim goes on from there. */
  private static final int MAX_TRIM_CALLS = 1000;

  private final Redis redis;
  private final Keys keys;

  public TaskIndex(Redis redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Where a page ends: the last task on it. Clients get it encoded and opaque ({@link #encode}). */
  public record Cursor(String createdAt, String taskId) {
    private static final Pattern TIMESTAMP = Pattern.compile("\\d{1,15}(\\.\\d{1,9})?");

    /** base64url of {@code created_at:task_id}. */
    public String encode() {
      return Base64.getUrlEncoder().withoutPadding()
          .encodeToString((createdAt + ":" + taskId).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor {@link #encode} gave; IllegalArgumentException for anything else. */
    public static Cursor decode(String text) {
      String plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
      int colon = plain.indexOf(':');
      if (colon < 0 || !TIMESTAMP.matcher(plain.substring(0, colon)).matches()) {
        throw new IllegalArgumentException("not a cursor");
      }
      String id = plain.substring(colon + 1);
      if (!UUID.fromString(id).toString().equals(id)) {
        throw new IllegalArgumentException("not a cursor");
      }
      return new Cursor(plain.substring(0, colon), id);
    }
  }

  /** A task as the index lists it; the timestamps (seconds since the epoch, as text) and worker null until set. */
  public record Entry(String taskId, String functionId, TaskStatus status, String createdAt, String startedAt,
      String finishedAt, int attempts, String worker) {}

  /** Up to a limit of tasks, newest first, and the cursor of the next page (null: this was the last). */
  public record Page(List<Entry> tasks, Cursor next) {}

  /**
   * A page of the tasks in {@code status} of {@code functionId} (either null: any), after {@code after}
   * (null: from the newest), in one round trip. A tenant that is no admin sees only its own tasks: those of
   * another tenant's function make an empty page.
   */
  public Future<Page> page(Tenant viewer, TaskStatus status, String functionId, int limit, Cursor after) {
    Function<String, String> scope;
    if (functionId != null) {
      scope = each -> keys.functionStatusIndex(functionId, each);
    } else if (!viewer.admin()) {
      scope = each -> keys.tenantStatusIndex(viewer.name(), each);
    } else {
      scope = keys::statusIndex;
    }
    // any status: the four status sets, merged by the script
    List<String> sets = status != null ? List.of(scope.apply(status.name()))
        : Arrays.stream(TaskStatus.values()).map(each -> scope.apply(each.name())).toList();
    List<String> args = List.of(Integer.toString(limit), after == null ? "" : after.taskId(),
        after == null ? "" : after.createdAt(), keys.task(""), Integer.toString(MAX_EXPIRED_PER_PAGE),
        viewer.scope());
    return LIST_TASKS.run(redis, sets, args).map(reply -> {
      List<Entry> tasks = new ArrayList<>();
      for (int i = 1; i + 7 < reply.size(); i += 8) {
        String attempts = reply.get(i + 6).toString();
        tasks.add(new Entry(reply.get(i).toString(), orNull(reply.get(i + 2)),
            TaskStatus.valueOf(reply.get(i + 1).toString()), orNull(reply.get(i + 3)), orNull(reply.get(i + 4)),
            orNull(reply.get(i + 5)), attempts.isEmpty() ? 0 : Integer.parseInt(attempts), orNull(reply.get(i + 7))));
      }
      boolean more = reply.get(0).toInteger() == 1 && !tasks.isEmpty();
      Entry last = more ? tasks.get(tasks.size() - 1) : null;
      return new Page(tasks, last == null ? null : new Cursor(last.createdAt(), last.taskId()));
    });
  }

  private static String orNull(Response field) {
    String text = field.toString();
    return text.isEmpty() ? null : text;
  }

  /**
   * Removes the tasks that expired from the index, in calls of bounded work; looks only at tasks created more
   * than {@code resultTtlSeconds + longestTimeoutSeconds} ago (none expires sooner). With a result TTL of 0,
   * nothing expires and nothing is done. Answers how many ids it removed.
   */
  public Future<Integer> trim(long resultTtlSeconds, long longestTimeoutSeconds) {
    if (resultTtlSeconds <= 0) {
      return Future.succeededFuture(0);
    }
    return trimCreatedBefore(Double.parseDouble(Timestamps.now()) - resultTtlSeconds - longestTimeoutSeconds);
  }

  /** Removes the expired tasks created at or before {@code bound} (seconds since the epoch) from the index. */
  Future<Integer> trimCreatedBefore(double bound) {
    return trim(String.format(Locale.ROOT, "%.6f", bound), "0", 0, 0);
  }

  private Future<Integer> trim(String bound, String scanCursor, int calls, int removedSoFar) {
    List<String> args = List.of(bound, Integer.toString(TRIM_BATCH), Integer.toString(TRIM_FUNCTIONS), scanCursor,
        keys.task(""));
    return TRIM_INDEX.run(redis, List.of(keys.index(), keys.indexedFunctions(), keys.indexedTenants()), args).compose(reply -> {
      int removed = removedSoFar + reply.get(0).toInteger();
      boolean more = reply.get(1).toInteger() == 1;
      String next = reply.get(2).toString();
      return (more || !next.equals("0")) && calls + 1 < MAX_TRIM_CALLS
          ? trim(bound, next, calls + 1, removed) : Future.succeededFuture(removed);
    });
  }
}
