package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mpcsfaas.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The redis-server the platform starts itself (./faas up's default, and the tests'). */
class RedisServerTest {
  @Test
  void itsAllocatorKeepsFreedPagesAndAsksForHugePages(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestRedis server = TestRedis.start(dir, false)) {
      Redis redis = server.client(vertx);
      String stats = cmd(redis, Command.MEMORY, "MALLOC-STATS").toString();
      assumeTrue(stats.contains("jemalloc"), "this redis-server is not built with jemalloc: " + stats);
      assertTrue(stats.contains("opt.dirty_decay_ms: -1"), "jemalloc's options: " + stats.lines()
          .filter(line -> line.contains("decay")).toList());
      assertTrue(stats.contains("opt.thp: \"always\""), "jemalloc's options: " + stats.lines()
          .filter(line -> line.contains("thp")).toList());
      redis.close();
    } finally {
      vertx.close().await();
    }
  }
}
