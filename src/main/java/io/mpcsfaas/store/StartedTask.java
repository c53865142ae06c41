package io.mpcsfaas.store;

/**
 * A task the dispatcher just moved to RUNNING, with everything a worker needs to run it.
 * {@code timeoutSeconds} is null when the client did not ask for one.
 */
public record StartedTask(String id, String entryId, String functionId, String functionPayload,
    String argsPayload, int attempts, Integer timeoutSeconds) {}
