package io.mpcsfaas.api;

import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The JSON events of a Server-Sent Events response, as a test reads the live feed. */
final class ServerSentEvents {
  private ServerSentEvents() {}

  /** A list that fills with the response's {@code data:} events, each a JSON object, as they arrive. */
  static List<JsonObject> collect(HttpClientResponse response) {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    StringBuilder pending = new StringBuilder();
    response.handler(chunk -> {
      pending.append(chunk.toString());
      int end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        String event = pending.substring(0, end);
        pending.delete(0, end + 2);
        if (event.startsWith("data: ")) {
          events.add(new JsonObject(event.substring("data: ".length())));
        }
      }
    });
    return events;
  }
}
