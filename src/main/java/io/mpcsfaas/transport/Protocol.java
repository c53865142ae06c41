package io.mpcsfaas.transport;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The wire messages between a dispatcher and its ZeroMQ workers (see docs/protocol.md): JSON objects with a
 * protocol version {@code v} and a {@code type}. One place builds and names them, for both ends.
 */
public final class Protocol {
  public static final int VERSION = 1;

  // worker -> dispatcher
  public static final String REGISTER = "register";
  public static final String ASK = "ask";
  public static final String RESULT = "result";
  public static final String OUTPUT = "output";
  public static final String DRAIN = "drain";
  public static final String BYE = "bye";
  public static final String FETCH = "fetch";
  // dispatcher -> worker
  public static final String WELCOME = "welcome";
  public static final String REFUSED = "refused";
  public static final String UNKNOWN = "unknown";
  public static final String TASK = "task";
  public static final String CANCEL = "cancel";
  public static final String FUNCTION = "function";
  // both ways
  public static final String HEARTBEAT = "heartbeat";

  private Protocol() {}

  /** Where workers in a pull or push dispatcher's own JVM reach it, besides its TCP address. */
  public static String inprocAddress(String dispatcherName) {
    return "inproc://dispatcher-" + dispatcherName;
  }

  public static JsonObject message(String type) {
    return new JsonObject().put("v", VERSION).put("type", type);
  }

  public static JsonObject register(String worker, String session, String mode, int slots, int busy, String token,
      Collection<String> envs) {
    return message(REGISTER).put("worker", worker).put("session", session).put("mode", mode).put("slots", slots)
        .put("busy", busy).put("token", token == null ? "" : token).put("envs", new JsonArray(List.copyOf(envs)))
        .put("fetch", true);
  }

  /**
   * Whether the worker of a {@code register} holds the functions it was sent and fetches one it lacks: such a
   * worker is sent each function once per session; one older than that, with every task.
   */
  public static boolean fetches(JsonObject register) {
    return Boolean.TRUE.equals(register.getValue("fetch"));
  }

  /**
   * The environments a {@code register} offers: the default alone when it names none (a worker older than
   * environments); null when {@code envs} is not a list of valid names.
   */
  public static Set<String> envs(JsonObject register) {
    Object value = register.getValue("envs");
    Set<String> envs = new LinkedHashSet<>();
    envs.add(Environments.DEFAULT);
    if (value == null) {
      return envs;
    }
    if (!(value instanceof JsonArray names)) {
      return null;
    }
    for (Object name : names) {
      if (!(name instanceof String s) || !Environments.validName(s)) {
        return null;
      }
      envs.add(s);
    }
    return envs;
  }

  /** Pull mode: up to {@code count} more tasks, or, for a dispatcher that reads it, {@code hold} in all. */
  public static JsonObject ask(int count, int hold) {
    return message(ASK).put("n", count).put("hold", hold);
  }

  /**
   * A task to run, with its function's payload unless {@code withFunction} is false (the worker was sent it);
   * {@code env} only when not the default, so such a task's message is as before.
   */
  public static JsonObject task(TaskSpec task, boolean withFunction) {
    JsonObject message = message(TASK).put("task", task.taskId()).put("fid", task.functionId());
    if (withFunction) {
      message.put("fn", task.functionPayload());
    }
    message.put("args", task.argsPayload()).put("timeout", task.timeoutSeconds());
    return task.env().equals(Environments.DEFAULT) ? message : message.put("env", task.env());
  }

  /** A worker lacks the function of a task it was sent without it. */
  public static JsonObject fetch(String functionId) {
    return message(FETCH).put("fid", functionId);
  }

  /** The answer to a {@code fetch}: the function's payload, or none when the dispatcher no longer has it. */
  public static JsonObject function(String functionId, String payload) {
    JsonObject message = message(FUNCTION).put("fid", functionId);
    return payload == null ? message : message.put("fn", payload);
  }

  /** Stop the task if it runs or waits on this worker; its result is sent as for any task. */
  public static JsonObject cancel(String taskId) {
    return message(CANCEL).put("task", taskId);
  }

  /** The task a {@code task} message carries; its function's payload is null when the message left it out. */
  public static TaskSpec taskSpec(JsonObject message) {
    return new TaskSpec(message.getString("task"), message.getString("fid"), message.getString("fn"),
        message.getString("args"), message.getInteger("timeout"), message.getString("env", Environments.DEFAULT));
  }

  /** A task's outcome; its output fields only when it printed something, so a silent task's message is as before. */
  public static JsonObject result(String taskId, TaskOutcome outcome) {
    JsonObject message = message(RESULT).put("task", taskId).put("ok", outcome.ok()).put("result", outcome.result())
        .put("error", outcome.error());
    return putOutput(message, outcome.output());
  }

  /** The outcome a {@code result} message carries; a malformed one fails the task rather than strand it. */
  public static TaskOutcome outcome(JsonObject message) {
    if (!(message.getValue("result") instanceof String result) || !(message.getValue("ok") instanceof Boolean ok)
        || (message.getValue("error") != null && !(message.getValue("error") instanceof String))) {
      return TaskOutcome.platformFailure("RuntimeError", "the worker sent a malformed result for this task");
    }
    return new TaskOutcome(ok, result, message.getString("error"), output(message));
  }

  /** What a running task printed so far. */
  public static JsonObject output(String taskId, TaskOutput output) {
    return putOutput(message(OUTPUT).put("task", taskId), output);
  }

  /**
   * The fields {@code stdout}, {@code stderr}, {@code output_truncated} of a message (or of an interpreter's
   * reply, which names them alike); absent or mistyped ones count as nothing printed.
   */
  public static TaskOutput output(JsonObject message) {
    Object stdout = message.getValue("stdout");
    Object stderr = message.getValue("stderr");
    if (stdout == null && stderr == null) {
      return TaskOutput.NONE;
    }
    return new TaskOutput(stdout instanceof String s ? s : "", stderr instanceof String s ? s : "",
        Boolean.TRUE.equals(message.getValue("output_truncated")));
  }

  private static JsonObject putOutput(JsonObject message, TaskOutput output) {
    if (output.isEmpty()) {
      return message;
    }
    return message.put("stdout", output.stdout()).put("stderr", output.stderr())
        .put("output_truncated", output.truncated());
  }

  public static JsonObject welcome(long heartbeatMillis, long timeoutMillis) {
    return message(WELCOME).put("heartbeat_ms", heartbeatMillis).put("timeout_ms", timeoutMillis);
  }

  public static JsonObject refused(String reason) {
    return message(REFUSED).put("reason", reason);
  }

  /** A worker's heartbeat: the tasks it runs, and how many it wants to hold (running and queued). */
  public static JsonObject heartbeat(int busy, int hold) {
    return message(HEARTBEAT).put("busy", busy).put("hold", hold);
  }

  /** True when the message speaks this protocol version. */
  public static boolean compatible(JsonObject message) {
    return message.getValue("v") instanceof Number n && n.intValue() == VERSION
        && message.getValue("type") instanceof String;
  }
}
