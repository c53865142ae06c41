package io.mpcsfaas.task;

/**
 * What a task printed: the last {@code worker.max_output_kb} KiB of its {@code stdout} and {@code stderr},
 * and whether earlier output was dropped. {@link #NONE} stands for a task that printed nothing.
 */
public record TaskOutput(String stdout, String stderr, boolean truncated) {
  public static final TaskOutput NONE = new TaskOutput("", "", false);

  /** True when nothing was printed (nothing to carry or store). */
  public boolean isEmpty() {
    return stdout.isEmpty() && stderr.isEmpty() && !truncated;
  }
}
