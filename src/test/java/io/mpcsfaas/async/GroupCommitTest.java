package io.mpcsfaas.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Calls are answered by hand, so each test decides what is in flight when an item arrives. */
class GroupCommitTest {
  final List<List<String>> calls = new ArrayList<>();
  final List<Promise<Void>> answers = new ArrayList<>();

  private Future<Void> call(List<String> batch) {
    calls.add(batch);
    Promise<Void> answer = Promise.promise();
    answers.add(answer);
    return answer.future();
  }

  private GroupCommit<String> commit(int maxCount, long maxBytes, GroupCommit.FailurePolicy<String> onFailure) {
    return new GroupCommit<>(maxCount, maxBytes, String::length, this::call, onFailure);
  }

  private static Future<Void> unexpected(List<String> batch, List<String> gathered, Throwable cause) {
    throw new AssertionError("no call fails here: " + cause);
  }

  @Test
  void anItemGoesOutAtOnceWhenIdleAndThoseArrivingMeanwhileGoTogetherInTheNextCall() {
    GroupCommit<String> commit = commit(100, 1000, GroupCommitTest::unexpected);
    commit.add("a");
    commit.add("b");
    commit.add("c");
    assertEquals(List.of(List.of("a")), calls);
    answers.get(0).complete();
    assertEquals(List.of(List.of("a"), List.of("b", "c")), calls);
    answers.get(1).complete();
    commit.add("d");
    assertEquals(List.of("d"), calls.get(2), "idle again: the next item goes at once");
  }

  @Test
  void theNextBatchIsSlicedByCountAndByBytes() {
    GroupCommit<String> commit = commit(3, 4, GroupCommitTest::unexpected);
    commit.add("first");
    for (String item : List.of("a", "b", "c", "d", "eeeeee", "f", "gg", "hh", "i")) {
      commit.add(item);
    }
    for (int i = 0; i < 5; i++) {
      answers.get(i).complete();
    }
    assertEquals(List.of(List.of("first"), List.of("a", "b", "c"), List.of("d", "eeeeee"), List.of("f", "gg", "hh"),
        List.of("i")), calls, "at most 3 items, and none added once 4 bytes are in");
  }

  @Test
  void aPolicyThatRetriesPutsTheFailedBatchAheadOfWhatGatheredAndSendsWhenItSays() {
    Promise<Void> retry = Promise.promise();
    List<Throwable> causes = new ArrayList<>();
    GroupCommit<String> commit = commit(100, 1000, (batch, gathered, cause) -> {
      causes.add(cause);
      gathered.addAll(0, batch);
      return retry.future();
    });
    commit.add("a");
    commit.add("b");
    answers.get(0).fail(new IllegalStateException("down"));
    commit.add("c");
    assertEquals(1, calls.size(), "nothing goes out before the policy says so");
    retry.complete();
    assertEquals(List.of(List.of("a"), List.of("a", "b", "c")), calls);
    assertEquals("down", causes.get(0).getMessage());
  }

  @Test
  void aPolicyThatFailsEverythingDrainsWhatGatheredAndItemsAddedMeanwhileGoInTheNextCall() {
    List<String> failed = new ArrayList<>();
    AtomicReference<GroupCommit<String>> self = new AtomicReference<>();
    self.set(commit(100, 1000, (batch, gathered, cause) -> {
      failed.addAll(batch);
      failed.addAll(gathered);
      gathered.clear();
      self.get().add("resubmitted"); // as a failed submit's listener may do
      return Future.succeededFuture();
    }));
    self.get().add("a");
    self.get().add("b");
    self.get().add("c");
    answers.get(0).fail(new IllegalStateException("down"));
    assertEquals(List.of("a", "b", "c"), failed);
    assertEquals(List.of(List.of("a"), List.of("resubmitted")), calls);
  }

  @Test
  void aCallThatThrowsCountsAsFailed() {
    List<String> failed = new ArrayList<>();
    GroupCommit<String> commit = new GroupCommit<>(String::length, batch -> {
      throw new IllegalArgumentException("bad batch");
    }, (batch, gathered, cause) -> {
      assertTrue(cause instanceof IllegalArgumentException, cause.toString());
      failed.addAll(batch);
      return Future.succeededFuture();
    });
    commit.add("a");
    commit.add("b");
    assertEquals(List.of("a", "b"), failed, "each went alone, as nothing was in flight");
  }

  @Test
  void aCallThatRunsOutOfHeapFailsItsBatchAndTheNextItemStillGoesOut() {
    List<Throwable> causes = new ArrayList<>();
    boolean[] tooBig = {true};
    GroupCommit<String> commit = new GroupCommit<>(String::length, batch -> {
      if (tooBig[0]) {
        tooBig[0] = false;
        throw new OutOfMemoryError("Java heap space"); // as building a 64 MiB request can
      }
      return call(batch);
    }, (batch, gathered, cause) -> {
      causes.add(cause);
      return Future.succeededFuture();
    });
    commit.add("huge");
    commit.add("small");
    assertTrue(causes.get(0) instanceof OutOfMemoryError, causes.toString());
    assertEquals(List.of(List.of("small")), calls, "the commit did not stay stuck on the batch that threw");
  }
}
