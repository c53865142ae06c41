package io.mpcsfaas.dispatch;

/** Where the dispatcher's delays come from: Vert.x timers on its context, or a clock a test moves by hand. */
@FunctionalInterface
interface Timers {

  /** Runs {@code action} once, after {@code delayMillis}, on the dispatcher's context. */
  void setTimer(long delayMillis, Runnable action);
}
