package io.mpcsfaas.dispatch;

import io.mpcsfaas.transport.TaskSpec;
import io.mpcsfaas.worker.InterpreterPool;
import io.vertx.core.Future;

/** Local mode: tasks run on the dispatcher's own pool of Python interpreters. */
final class LocalBackend implements ExecutionBackend {
  private final InterpreterPool pool;
  private final String worker;

  LocalBackend(InterpreterPool pool, String worker) {
    this.pool = pool;
    this.worker = worker;
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
  public Future<Execution> run(TaskSpec task) {
    return pool.run(task).map(outcome -> new Execution(worker, outcome));
  }

  @Override
  public Future<Void> close() {
    return pool.close();
  }
}
