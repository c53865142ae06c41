package io.mpcsfaas.bench;

import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The live line of one phase of a bench run on a terminal: tasks done (of the total), the rate over about the
 * last second and the time elapsed, rewritten in place ({@code \r}) a few times a second and blanked at the end.
 * Off a terminal it writes nothing, so that redirected output (logs, CSV) stays clean. It reads the run's own
 * counter on a timer, so that it costs the run nothing per task.
 */
final class Progress {
  static final long PERIOD_MILLIS = 250;
  private static final long WINDOW_NANOS = 1_000_000_000L;

  /** Null off a terminal: nothing is shown. */
  private final PrintStream out;
  private final LongSupplier nanoClock;
  private final String label;
  /** {nanos, done} of the samples of about the last second, oldest first, for the rate. */
  private final ArrayDeque<long[]> samples = new ArrayDeque<>();
  private int total;
  private long startNanos;
  /** Characters of the line shown, to blank what a shorter line would leave. */
  private int width;
  private Vertx vertx;
  private long timer = -1;

  Progress(boolean terminal, PrintStream out, LongSupplier nanoClock, String label) {
    this.out = terminal ? out : null;
    this.nanoClock = nanoClock;
    this.label = label;
  }

  /** The phase {@code label} on standard output, shown only when it is a terminal. */
  static Progress onTerminal(String label) {
    return new Progress(System.console() != null, System.out, System::nanoTime, label);
  }

  /**
   * Shows {@code done} of {@code total} tasks (0: no fixed total) every {@link #PERIOD_MILLIS} from now until
   * {@link #end()}. Call it on the run's context: the timer runs there too, so it reads the run's plain counters
   * on their own thread.
   */
  void follow(Vertx vertx, int total, IntSupplier done) {
    if (out == null) {
      return;
    }
    begin(total);
    this.vertx = vertx;
    timer = vertx.setPeriodic(PERIOD_MILLIS, t -> show(done.getAsInt()));
  }

  /** Starts the phase's clock and rate: {@code total} tasks (0: no fixed total), none done yet. */
  void begin(int total) {
    this.total = total;
    startNanos = nanoClock.getAsLong();
    samples.clear();
    samples.addLast(new long[] {startNanos, 0});
    width = 0;
  }

  /** Rewrites the line with {@code done} tasks now. */
  void show(int done) {
    if (out == null) {
      return;
    }
    long now = nanoClock.getAsLong();
    samples.addLast(new long[] {now, done});
    while (samples.size() > 2) { // drop the oldest while the next one is a window old already
      long[] oldest = samples.pollFirst();
      if (now - samples.peekFirst()[0] < WINDOW_NANOS) {
        samples.offerFirst(oldest);
        break;
      }
    }
    long[] from = samples.peekFirst();
    double rate = now > from[0] ? (done - from[1]) * 1e9 / (now - from[0]) : 0;
    String line = String.format(Locale.ROOT, "%s: %d%s tasks, %.0f tasks/s, %.1f s", label, done,
        total > 0 ? "/" + total : "", rate, (now - startNanos) / 1e9);
    out.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
    out.flush();
    width = line.length();
  }

  /** Stops showing and blanks the line, so that what the run prints next starts on a clean line. */
  void end() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (out != null && width > 0) {
      out.print("\r" + " ".repeat(width) + "\r");
      out.flush();
      width = 0;
    }
  }
}
