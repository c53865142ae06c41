package io.mpcsfaas;

import static io.mpcsfaas.TestRedis.await;

import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TaskStore;
import io.vertx.redis.client.Redis;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the tests that each work in a key space of their own on their class's Redis (the class's static
 * {@link RedisAndVertx} extension): before each test a client, {@link Keys} under a fresh prefix and a
 * {@link TaskStore} on them, the client closed after it, and one-line helpers over them.
 */
public abstract class KeySpaceTest {
  protected Redis redis;
  protected Keys keys;
  protected TaskStore store;

  /** The key prefix of each test: a random one, so that nothing leaks between tests on the shared server. */
  protected String prefix() {
    return TestRedis.randomTag() + ":";
  }

  @BeforeEach
  protected void openKeySpace(RedisAndVertx shared) {
    redis = shared.client();
    keys = new Keys(prefix());
    store = new TaskStore(redis, keys);
  }

  /** Runs after the subclass's own {@code @AfterEach} methods, so they may still use the client. */
  @AfterEach
  protected void closeKeySpace() {
    await(redis.close());
  }

  /** Registers a function; returns its id. */
  protected String register(String name, String payload) {
    return await(store.registerFunction(name, payload));
  }

  /** Creates and queues a task; returns its id. */
  protected String submit(String functionId, String payload, Integer timeoutSeconds) {
    return await(TaskSteps.createTask(store, functionId, payload, timeoutSeconds));
  }

  /** The queue as the dispatcher {@code consumer} sees it, keeping finished tasks forever. */
  protected TaskQueue queue(String consumer) {
    return new TaskQueue(redis, keys, consumer, 0);
  }

  /** The task's hash as Redis holds it (empty when there is none). */
  protected Map<String, String> hash(String taskId) {
    return TestRedis.hash(redis, keys.task(taskId));
  }
}
