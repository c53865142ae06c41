package io.mpcsfaas.dispatch;

import io.mpcsfaas.transport.TaskOutcome;
import io.mpcsfaas.transport.TaskSpec;
import io.mpcsfaas.worker.InterpreterPool;
import io.vertx.core.Future;

/** Local mode: tasks run on the dispatcher's own pool of Python interpreters. */
final class LocalBackend implements ExecutionBackend {
  private final InterpreterPool pool;

  LocalBackend(InterpreterPool pool) {
    this.pool = pool;
  }

  @Override
  public int capacity() {
    return pool.capacity();
  }

  @Override
  public void onCapacity(Runnable listener) {
    pool.onCapacity(listener);
  }

  @Override
  public Future<TaskOutcome> run(TaskSpec task) {
    return pool.run(task);
  }

  @Override
  public Future<Void> close() {
    return pool.close();
  }
}
