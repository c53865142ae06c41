package io.mpcsfaas.store;

import java.lang.ref.SoftReference;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Big values passed by reference between the API and a dispatcher that share a JVM ({@code ./faas up}): a task's
 * arguments from the API that created it to the dispatcher that starts it, and its result from the dispatcher
 * that stored it to the API that answers for it. Redis still gets every value, for durability and for every
 * other process; what this saves is reading the value straight back, which for an 8 MiB pickle cost Redis a
 * reply of 11 MiB and the reader's Redis client a buffer grown by copies and a String decoded from it. Each
 * value is taken once; one nobody takes (another dispatcher started the task, no client asked for the result)
 * is dropped once {@value #MAX_AGE_MILLIS} ms old, when a value is next held or taken, and a value that would
 * pass the byte budget is not held. Either way the reader falls back to Redis. Held values are softly reachable: a
 * heap too full for the work at hand takes them back before it fails (at -Xmx128m, two held 8 MiB results left
 * no room to answer for any result, and every poll got 503 for minutes). Shared by event loops, hence
 * synchronized; each call is a map operation (the clock is read outside the lock).
 */
public final class Handover {
  /** Holds nothing: for an API or a dispatcher alone in its JVM. */
  public static final Handover NONE = new Handover(0, System::nanoTime);
  static final long MAX_AGE_MILLIS = 60_000;
  private static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(MAX_AGE_MILLIS);

  /** {@code length} is the value's, counted against the budget until the entry goes, cleared or not. */
  private record Held(SoftReference<String> value, int length, String owner, long since) {}

  private final long budget;
  private final LongSupplier nanoClock;
  private final Map<String, Held> held = new LinkedHashMap<>(); // oldest first
  private long bytes;

  Handover(long budget, LongSupplier nanoClock) {
    this.budget = budget;
    this.nanoClock = nanoClock;
  }

  /** For an API and a dispatcher in this JVM: values up to a quarter of the heap at once. */
  public static Handover forThisJvm() {
    return new Handover(Runtime.getRuntime().maxMemory() / 4, System::nanoTime);
  }

  boolean active() {
    return budget > 0;
  }

  /** Holds a task's arguments (base64) until the dispatcher that starts it takes them. */
  void putArguments(String taskId, String payload) {
    put("arguments " + taskId, payload, "");
  }

  /** The task's arguments if held (and no longer), else null. */
  String takeArguments(String taskId) {
    return take("arguments " + taskId, "");
  }

  /** Drops a task's arguments: the task was not created. */
  void dropArguments(String taskId) {
    take("arguments " + taskId, null);
  }

  /** Holds a stored result, with its owner (see TaskQueue#stageBigResults), until an API answers with it. */
  void putResult(String taskId, String owner, String result) {
    put("result " + taskId, result, owner);
  }

  /** Whether a result is held for the task; asked before every read of a task, so free when inactive. */
  boolean holdsResult(String taskId) {
    return active() && holds("result " + taskId);
  }

  /**
   * The task's result if held for {@code owner}, the owner Redis names for the stored result (null for none);
   * else null (it was never held, or the task ran again since). It is no longer held either way.
   */
  String takeResult(String taskId, String owner) {
    return take("result " + taskId, owner);
  }

  /** Whether a value is held for {@code key}; an entry whose value the heap took back goes now. */
  private synchronized boolean holds(String key) {
    Held h = held.get(key);
    if (h != null && h.value().refersTo(null)) {
      remove(key);
      return false;
    }
    return h != null;
  }

  private void put(String key, String value, String owner) {
    if (!active()) {
      return;
    }
    long now = nanoClock.getAsLong();
    synchronized (this) {
      dropOld(now);
      remove(key);
      if (bytes + value.length() <= budget) { // a base64 String holds a byte per character
        held.put(key, new Held(new SoftReference<>(value), value.length(), owner, now));
        bytes += value.length();
      }
    }
  }

  /** The value if held for {@code owner} ("" for arguments; null matches none), and no longer held. */
  private String take(String key, String owner) {
    if (!active()) {
      return null;
    }
    long now = nanoClock.getAsLong();
    synchronized (this) {
      dropOld(now);
      Held h = remove(key);
      return h != null && h.owner().equals(owner) ? h.value().get() : null;
    }
  }

  /** Under the lock. */
  private Held remove(String key) {
    Held h = held.remove(key);
    bytes -= h == null ? 0 : h.length();
    return h;
  }

  /** Under the lock: the values held {@value #MAX_AGE_MILLIS} ms or more, the oldest first. */
  private void dropOld(long now) {
    for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
      Held h = it.next();
      if (now - h.since() < MAX_AGE_NANOS) {
        return; // the rest are younger
      }
      bytes -= h.length();
      it.remove();
    }
  }
}
