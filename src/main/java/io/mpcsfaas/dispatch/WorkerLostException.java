package io.mpcsfaas.dispatch;

/** The worker running a task went away before answering; the task may run again elsewhere. */
public final class WorkerLostException extends RuntimeException {
  public WorkerLostException(String message) {
    super(message, null, false, false);
  }
}
