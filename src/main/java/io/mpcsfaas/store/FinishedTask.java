package io.mpcsfaas.store;

/** A task's terminal outcome on its way to Redis, with the queue entry it releases. */
public record FinishedTask(String taskId, String entryId, TaskStatus status, String result, String error,
    String worker) {}
