package io.mpcsfaas.store;

/**
 * How many more times a failed task runs ({@code max}, 0 to 10) and how many seconds after its failure
 * ({@code delaySeconds}, 0 or more). A null field is not given: a task then takes its function's default,
 * and a function has none (0).
 */
public record Retries(Integer max, Double delaySeconds) {
  public static final Retries UNSET = new Retries(null, null);

  /** The script argument for {@code max}: '' when not given. */
  String maxArg() {
    return max == null ? "" : max.toString();
  }

  /** The script argument for {@code delaySeconds}: '' when not given. */
  String delayArg() {
    return delaySeconds == null ? "" : delaySeconds.toString();
  }
}
