package io.mpcsfaas.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;

/** {@code ./faas status}: queue depth, workers and recent throughput of a running platform, from its API. */
final class Status {
  static final String USAGE = """
      usage: ./faas status [--url URL] [--api-key KEY] [--interval S]
        --url URL        the platform's API [http://127.0.0.1:8000]
        --api-key KEY    its API key [$FAAS_API_KEY, none]
        --interval S     seconds between the two samples that give the throughput [2]
      """;

  private Status() {}

  static int main(String[] args) throws IOException, InterruptedException {
    String url = "http://127.0.0.1:8000";
    String apiKey = System.getenv("FAAS_API_KEY");
    double interval = 2;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--url" -> url = value;
        case "--api-key" -> apiKey = value;
        case "--interval" -> interval = Double.parseDouble(value);
        case "--help", "-h" -> {
          System.out.print(USAGE);
          return 0;
        }
        default -> throw new UsageException("unknown option " + args[i]);
      }
      i++;
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    JsonObject first = fetch(http, url, apiKey);
    long started = System.nanoTime();
    Thread.sleep((long) (interval * 1000));
    JsonObject second = fetch(http, url, apiKey);
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.print(render(url, first, second, seconds));
    return 0;
  }

  static String render(String url, JsonObject first, JsonObject second, double seconds) {
    long ended = second.getLong("completed") + second.getLong("failed")
        - first.getLong("completed") - first.getLong("failed");
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
        "MPCSFaaS at %s%nqueue: %d waiting, %d claimed by dispatchers%n"
            + "tasks: %d submitted, %d completed, %d failed%nthroughput: %.1f tasks/s over the last %.1f s%n",
        url, second.getLong("queued"), second.getLong("in_flight"), second.getLong("submitted"),
        second.getLong("completed"), second.getLong("failed"), ended / seconds, seconds));
    if (second.getJsonArray("dispatchers").isEmpty()) {
      out.append("no dispatcher is running: queued tasks wait\n");
    }
    double now = System.currentTimeMillis() / 1000.0;
    for (Object d : second.getJsonArray("dispatchers")) {
      JsonObject dispatcher = (JsonObject) d;
      out.append(String.format("dispatcher %s (%s mode), %d workers%n", dispatcher.getString("name"),
          dispatcher.getString("mode"), dispatcher.getJsonArray("workers").size()));
      for (Object w : dispatcher.getJsonArray("workers")) {
        JsonObject worker = (JsonObject) w;
        out.append(String.format(Locale.ROOT, "  %-36s %d/%d slots busy, heard from %.1f s ago%n",
            worker.getString("id"), worker.getInteger("busy"), worker.getInteger("slots"),
            Math.max(0, now - worker.getDouble("last_heartbeat"))));
      }
    }
    return out.toString();
  }

  private static JsonObject fetch(HttpClient http, String url, String apiKey) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + "/stats")).timeout(Duration.ofSeconds(5));
    if (apiKey != null && !apiKey.isEmpty()) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException("no MPCSFaaS API answers at " + url + " (" + e.getMessage() + ")", e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(url + "/stats answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }
}
