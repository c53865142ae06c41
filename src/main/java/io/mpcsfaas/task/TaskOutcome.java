package io.mpcsfaas.task;

/**
 * How a task ended: {@code result} is base64(dill) of the return value, or of the exception when it failed;
 * {@code error} is the traceback or the platform's explanation (null on success); {@code output} is what
 * it printed ({@link TaskOutput#NONE} when nothing; when the platform ended it, what it last reported).
 */
public record TaskOutcome(boolean ok, String result, String error, TaskOutput output) {
  /** Why a task failed whose result the JVM's heap could not hold, on its way from the interpreter or to Redis. */
  public static final String RESULT_TOO_BIG_FOR_HEAP =
      "the task's result did not fit the platform's heap (give it more: FAAS_JAVA_OPTS, docs/payloads.md)";
  /** Where Python 3.8+ defines {@code concurrent.futures.CancelledError}, which a pickle must name. */
  private static final String CANCELLED_MODULE = "concurrent.futures._base";

  /** A task cancelled by request: {@code concurrent.futures.CancelledError}, so clients stop as for any end. */
  public static final TaskOutcome CANCELLED = new TaskOutcome(false,
      PickledException.encode(CANCELLED_MODULE, "CancelledError", "cancelled by request"),
      "CancelledError: cancelled by request");

  public TaskOutcome(boolean ok, String result, String error) {
    this(ok, result, error, TaskOutput.NONE);
  }

  public TaskOutcome withOutput(TaskOutput printed) {
    return new TaskOutcome(ok, result, error, printed);
  }

  public static TaskOutcome success(String result) {
    return new TaskOutcome(true, result, null);
  }

  /** A failure the platform detected itself, reported to the client as a Python exception of {@code type}. */
  public static TaskOutcome platformFailure(String type, String message) {
    return new TaskOutcome(false, PickledException.encode(type, message), type + ": " + message);
  }
}
