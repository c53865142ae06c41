package io.mpcsfaas.store;

import io.mpcsfaas.config.Environments;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Platform-wide counters and histograms, kept in Redis by the task scripts so that every API process sees
 * the same figures whichever dispatcher ran the tasks, plus the current depth of every environment's queue.
 *
 * @param counters "submitted", "completed", "failed", and histogram fields "name:bound", "name:sum", "name:count"
 * @param queued tasks waiting for a dispatcher, over all environments
 * @param claimed tasks claimed by a dispatcher and not ended (starting or running)
 * @param queuedByEnv tasks waiting for a dispatcher, per environment (the default one always, the others when
 *     functions were registered with them)
 */
public record PlatformStats(Map<String, Double> counters, long queued, long claimed, Map<String, Long> queuedByEnv) {
  private static final Scripts QUEUE_DEPTHS = Scripts.load("queue_depths.lua");

  public static Future<PlatformStats> read(Redis redis, Keys keys) {
    Future<Response> hash = redis.send(Request.cmd(Command.HGETALL).arg(keys.stats()));
    Future<Response> depths = QUEUE_DEPTHS.run(redis, List.of(keys.queue(), keys.environments()),
        List.of(Keys.DISPATCHERS_GROUP));
    return Future.all(hash, depths).map(v -> {
      Map<String, Double> counters = new TreeMap<>();
      for (String field : hash.result().getKeys()) {
        counters.put(field, Double.valueOf(hash.result().get(field).toString()));
      }
      Map<String, Long> queuedByEnv = new LinkedHashMap<>();
      long queued = 0;
      long claimed = 0;
      Response d = depths.result();
      for (int i = 0; i + 2 < d.size(); i += 3) {
        String env = d.get(i).toString();
        long entries = d.get(i + 1).toLong();
        long taken = d.get(i + 2).toLong();
        long waiting = Math.max(0, entries - taken);
        queuedByEnv.put(env.isEmpty() ? Environments.DEFAULT : env, waiting);
        queued += waiting;
        claimed += taken;
      }
      return new PlatformStats(counters, queued, claimed, queuedByEnv);
    });
  }

  public double counter(String name) {
    return counters.getOrDefault(name, 0.0);
  }

  /**
   * What /stats says of environments: those {@code offered} by live workers (and local dispatchers), each
   * environment's tasks {@code queued}, and those {@code waited_for}: with queued tasks that nothing live offers.
   */
  public JsonObject environments(List<String> offered) {
    JsonObject queuedJson = new JsonObject();
    List<String> waitedFor = new ArrayList<>();
    queuedByEnv.forEach((env, n) -> {
      queuedJson.put(env, n);
      if (n > 0 && !offered.contains(env)) {
        waitedFor.add(env);
      }
    });
    return new JsonObject().put("offered", offered).put("waited_for", waitedFor).put("queued", queuedJson);
  }
}
