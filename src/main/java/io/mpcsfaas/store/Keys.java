package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;

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

  /** Sorted set of the ids of the functions called {@code name}, by registration time. */
  public String functionsNamed(String name) {
    return prefix + "functions:name:" + name;
  }

  /** Sorted set of the ids of one tenant's functions, by registration time. */
  public String tenantFunctions(String tenant) {
    return prefix + "functions:tenant:" + tenant;
  }

  /** Sorted set of the ids of one tenant's functions called {@code name}, by registration time. */
  public String tenantFunctionsNamed(String tenant, String name) {
    return tenantFunctions(tenant) + ":name:" + name;
  }

  /** The id of the function registered with this name and payload ({@code digest}: sha256 of both). */
  public String functionByContent(String digest) {
    return prefix + "function-by-content:" + digest;
  }

  public String functionPrefix() {
    return prefix + "function:";
  }

  public String task(String id) {
    return prefix + "task:" + id;
  }

  /** The stream of the default environment's tasks (its name predates environments). */
  public String queue() {
    return prefix + "queue";
  }

  /**
   * The stream of the tasks of environment {@code env}: {@link #queue} for the default one, else a sibling that
   * the task scripts derive alike ({@code QUEUE:env:NAME}).
   */
  public String queue(String env) {
    return env.equals(Environments.DEFAULT) ? queue() : queue() + ":env:" + env;
  }

  /** Set of the environments other than the default that functions were registered with: their streams. */
  public String environments() {
    return prefix + "environments";
  }

  /**
   * The name the task index's keys derive from, in the task scripts too ({@link #statusIndex},
   * {@link #functionStatusIndex}, {@link #indexedFunctions}, {@link #tenantStatusIndex}, {@link #indexedTenants});
   * an older version's sorted set of every task, which the trim removes.
   */
  public String index() {
    return prefix + "index";
  }

  /** Sorted set of the ids of the tasks in {@code status}, by creation time. */
  public String statusIndex(String status) {
    return index() + ":status:" + status;
  }

  /** Sorted set of the ids of the tasks of a function in {@code status}, by creation time. */
  public String functionStatusIndex(String functionId, String status) {
    return index() + ":function:" + functionId + ":" + status;
  }

  /** Set of the function ids that have tasks in the index, for trimming their sets. */
  public String indexedFunctions() {
    return index() + ":functions";
  }

  /**
   * Sorted set of the ids of one tenant's tasks in {@code status}, by creation time; the QUEUED and RUNNING sets
   * together are the tenant's tasks in flight.
   */
  public String tenantStatusIndex(String tenant, String status) {
    return index() + ":tenant:" + tenant + ":" + status;
  }

  /** Set of the tenants that have tasks in the index, for trimming their sets. */
  public String indexedTenants() {
    return index() + ":tenants";
  }

  /** Hash of platform-wide counters and histograms, updated by the task scripts. */
  public String stats() {
    return prefix + "stats";
  }

  /** Hash of one function's counters and run-time histogram (see function_stats.lua), beside {@link #stats}. */
  public String functionStats(String functionId) {
    return stats() + ":function:" + functionId;
  }

  /** Hash of one tenant's counters (submitted, completed, failed), beside {@link #stats}. */
  public String tenantStats(String tenant) {
    return stats() + ":tenant:" + tenant;
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
