package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The router's failure path, over real HTTP: what a route's failure becomes for the client. */
class ErrorResponsesTest {
  private static Vertx vertx;
  private static HttpServer server;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    ErrorResponses.install(router, 1 << 20);
    router.get("/heap").handler(ctx -> {
      throw new OutOfMemoryError("Java heap space");
    });
    router.get("/heap-in-a-callback").handler(ctx -> vertx.setTimer(1, id -> ErrorResponses.answer(ctx, () -> {
      throw new OutOfMemoryError("Java heap space"); // as building a big answer once Redis replied
    })));
    router.get("/refused").handler(ctx -> ctx.fail(new ApiError(409, "refused")));
    router.get("/bug").handler(ctx -> {
      throw new IllegalStateException("a bug");
    });
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @Test
  void aHeapTooSmallForTheRequestIsA503ToRetryNotA500() throws Exception {
    assertOutOfHeap(get("/heap"));
  }

  @Test
  void aHeapTooSmallForAnAnswerBuiltInACallbackIsA503TooNotASilence() throws Exception {
    assertOutOfHeap(get("/heap-in-a-callback"));
  }

  private static void assertOutOfHeap(HttpResponse<String> answer) {
    assertEquals(503, answer.statusCode());
    assertEquals("1", answer.headers().firstValue("Retry-After").orElse(null));
    assertTrue(new JsonObject(answer.body()).getString("error").contains("ran out of memory"), answer.body());
  }

  @Test
  void aRefusalKeepsItsStatusAndAnUnexpectedFailureIsA500() throws Exception {
    assertEquals(409, get("/refused").statusCode());
    HttpResponse<String> bug = get("/bug");
    assertEquals(500, bug.statusCode());
    assertEquals("internal error", new JsonObject(bug.body()).getString("error"));
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.actualPort() + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()); // an answer never sent fails the test instead of hanging it
  }
}
