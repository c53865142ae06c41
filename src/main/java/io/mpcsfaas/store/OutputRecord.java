package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskStatus;

/** What a client may see of a task's output: its status and what it printed, so far while it runs. */
public record OutputRecord(String id, TaskStatus status, TaskOutput output) {}
