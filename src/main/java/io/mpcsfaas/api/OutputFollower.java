package io.mpcsfaas.api;

import io.mpcsfaas.store.NotFoundException;
import io.mpcsfaas.store.OutputRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.util.function.Supplier;

/**
 * Streams a task's output for {@code GET /output/{id}?follow=true}, as chunked text: it re-reads the task every
 * {@value #POLL_MILLIS} ms (the dispatcher stores what a running task printed every half second) and writes
 * what was appended to its stdout, then to its stderr, since the last read; it ends the response once the task
 * has ended, after writing the final remainder, and stops reading when the client goes away. Runs on the
 * API's event loop.
 */
final class OutputFollower {
  static final long POLL_MILLIS = 500;

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final Supplier<Future<OutputRecord>> read;
  private final OutputCursor stdout = new OutputCursor();
  private final OutputCursor stderr = new OutputCursor();
  private long timer = -1;
  private boolean closed;

  private OutputFollower(Vertx vertx, HttpServerResponse response, Supplier<Future<OutputRecord>> read) {
    this.vertx = vertx;
    this.response = response;
    this.read = read;
  }

  /** Starts the response with what {@code first} (the task as first read) printed, and follows the task. */
  static void follow(Vertx vertx, HttpServerResponse response, OutputRecord first,
      Supplier<Future<OutputRecord>> read) {
    OutputFollower follower = new OutputFollower(vertx, response, read);
    response.setChunked(true).putHeader("content-type", "text/plain; charset=utf-8");
    response.closeHandler(v -> follower.stop());
    String already = first.output().truncated() ? OutputCursor.TRUNCATED : "";
    follower.write(already, first);
  }

  private void write(String prefix, OutputRecord task) {
    if (closed) {
      return;
    }
    String text = prefix + stdout.next(task.output().stdout()) + stderr.next(task.output().stderr());
    if (!text.isEmpty()) {
      response.write(text);
    }
    if (task.status().isTerminal()) {
      end();
    } else {
      timer = vertx.setTimer(POLL_MILLIS, t -> poll());
    }
  }

  private void poll() {
    timer = -1;
    read.get().onComplete(ar -> {
      if (ar.succeeded()) {
        write("", ar.result());
      } else if (ar.cause() instanceof NotFoundException) {
        end(); // expired meanwhile: nothing more will come
      } else if (!closed) {
        timer = vertx.setTimer(POLL_MILLIS, t -> poll()); // Redis unreachable for now: the next read may work
      }
    });
  }

  private void end() {
    if (!closed) {
      stop();
      response.end();
    }
  }

  private void stop() {
    closed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
