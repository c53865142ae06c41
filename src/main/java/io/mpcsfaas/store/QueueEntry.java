package io.mpcsfaas.store;

/** One entry of the durable task queue, claimed by a dispatcher until the task ends. */
public record QueueEntry(String entryId, String taskId) {}
