package io.mpcsfaas.task;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The functions one holder keeps (a dispatcher's payloads, or the record of what a peer was sent), by function
 * id, within a count and a byte budget; the least recently used leave first. A function never changes under
 * its id (ids are content-addressed), so what is held is never stale. Not thread-safe: one owner uses it.
 *
 * @param <V> what is kept per function (its payload, or nothing more than its size)
 */
public final class HeldFunctions<V> {
  private record Held<V>(V value, long bytes) {}

  private final int maxCount;
  private final long maxBytes;
  private final LinkedHashMap<String, Held<V>> held = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;

  public HeldFunctions(int maxCount, long maxBytes) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
  }

  /** What is held for {@code fid} (which becomes the most recently used), or null. */
  public V get(String fid) {
    Held<V> entry = held.get(fid);
    return entry == null ? null : entry.value();
  }

  /** Whether {@code fid} is held; it becomes the most recently used. */
  public boolean contains(String fid) {
    return held.get(fid) != null;
  }

  /**
   * Holds {@code value} for {@code fid}, counting {@code size} bytes, and answers the ids it let go to stay
   * within its bounds (never {@code fid} itself: one function over the byte budget is still held, alone).
   */
  public List<String> put(String fid, V value, long size) {
    Held<V> before = held.put(fid, new Held<>(value, size));
    bytes += size - (before == null ? 0 : before.bytes());
    List<String> evicted = new ArrayList<>();
    Iterator<Map.Entry<String, Held<V>>> oldest = held.entrySet().iterator();
    while ((held.size() > maxCount || bytes > maxBytes) && held.size() > 1) {
      Map.Entry<String, Held<V>> entry = oldest.next();
      bytes -= entry.getValue().bytes();
      evicted.add(entry.getKey());
      oldest.remove();
    }
    return evicted;
  }

  public int size() {
    return held.size();
  }
}
