package io.mpcsfaas.dispatch;

import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.task.TaskOutput;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;

/**
 * The durable queue as one dispatcher sees it: its own consumer in a group that several dispatchers share.
 * An entry stays pending for the dispatcher that claimed it until {@link #finish} stores its outcome.
 */
interface DispatchQueue {

  /** This dispatcher's name in the group. */
  String consumer();

  /** Creates the consumer group of each environment's stream if it is missing (a new or emptied Redis). */
  Future<Void> ensureGroups(Collection<String> envs);

  /** Up to {@code count} entries per environment that this dispatcher held before a restart. */
  Future<List<QueueEntry>> claimPending(int count, Collection<String> envs);

  /**
   * Claims up to {@code count} new entries per environment, waiting a while for one to arrive in any; may
   * answer none.
   */
  Future<List<QueueEntry>> claimNew(int count, Collection<String> envs);

  /** Moves the tasks to RUNNING in one call; each answer is the started task, or null when it will not run. */
  Future<List<StartedTask>> start(List<QueueEntry> entries);

  /** Stores the outcomes (each unless its task has one already) and releases their entries, in one call. */
  Future<Void> finish(List<FinishedTask> outcomes);

  /** Stores what a running task printed so far, unless the task no longer runs. */
  Future<Void> storeOutput(String taskId, TaskOutput output);

  /** Keeps the entries this dispatcher holds in the streams of {@code envs} from being taken over. */
  Future<Void> refresh(Collection<String> envs);

  /**
   * Takes over up to {@code count} entries per environment that a dispatcher which stopped (or no longer runs
   * that environment) left untouched.
   */
  Future<List<QueueEntry>> takeOver(int count, Collection<String> envs);
}
