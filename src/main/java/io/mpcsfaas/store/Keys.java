package io.mpcsfaas.store;

/** Every Redis key and channel name the platform uses, under one configurable prefix. */
public record Keys(String prefix) {
  /** The channel where new task ids are announced; its name is a contract with existing clients. */
  public static final String TASKS_CHANNEL = "tasks";
  /** The consumer group of dispatchers on the task queue. */
  public static final String DISPATCHERS_GROUP = "dispatchers";

  public String function(String id) {
    return prefix + "function:" + id;
  }

  /** Sorted set of function ids by registration time, for listing them. */
  public String functions() {
    return prefix + "functions";
  }

  public String functionPrefix() {
    return prefix + "function:";
  }

  public String task(String id) {
    return prefix + "task:" + id;
  }

  public String queue() {
    return prefix + "queue";
  }

  /** Hash of platform-wide counters and histograms, updated by the task scripts. */
  public String stats() {
    return prefix + "stats";
  }

  /** Short-lived description of a live dispatcher and its workers. */
  public String dispatcher(String name) {
    return prefix + "dispatcher:" + name;
  }

  /** Sorted set of dispatcher names by their last heartbeat. */
  public String dispatchers() {
    return prefix + "dispatchers";
  }

  /** Channel where the id of every cancelled task is published, for the dispatcher running it to stop it. */
  public String cancelChannel() {
    return prefix + "cancel";
  }

  /** Sorted set of the ids of tasks waiting to be retried, by the time they are due (seconds since the epoch). */
  public String delayed() {
    return prefix + "delayed";
  }

  /** Channel where the id of every task that reaches a terminal state is published. */
  public String doneChannel() {
    return prefix + "done";
  }
}
