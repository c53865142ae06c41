package io.mpcsfaas.store;

/** What a client may see of a task; {@code result} and {@code error} are null until it ends. */
public record TaskRecord(String id, TaskStatus status, String result, String error) {}
