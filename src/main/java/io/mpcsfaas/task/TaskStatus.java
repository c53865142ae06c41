package io.mpcsfaas.task;

/** The life of a task: statuses only move forward, except a re-dispatch after a lost worker. */
public enum TaskStatus {
  QUEUED, RUNNING, COMPLETED, FAILED;

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED;
  }
}
