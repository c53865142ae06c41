package io.mpcsfaas.store;

/**
 * Task payloads and results over {@value #INLINE} bytes travel beside the Lua scripts, with plain hash commands:
 * a value passed to a script as an argument is copied into Lua and again by each command that stores it, which
 * for 8 MiB cost Redis 250-450 ms per script where a plain HSET or HGET costs a fraction of it. The scripts keep
 * deciding every state change; only the big value moves outside them, in an order that never exposes a task
 * without it (see TaskStore#create and TaskQueue#finish). Lua's side of the threshold is written as the same
 * number in start_tasks.lua.
 */
final class LargeValues {
  static final int INLINE = 65536;
  /**
   * How long a payload written ahead of its creation script lives when that script never runs (the API died
   * between the two): the script makes it permanent when it creates the task.
   */
  static final long ORPHAN_SECONDS = 3600;

  private LargeValues() {}

  static boolean large(String value) {
    return value.length() > INLINE;
  }
}
