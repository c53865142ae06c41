package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.TaskStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Redis;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The API's body reader over real HTTP: bodies arrive whole with or without a declared length, a body over the
 * limit is a 413, and big bodies beyond the budget are refused with a 503 until the ones in flight are answered.
 */
class BodyReaderTest {
  private static final int LIMIT = 4 << 20;
  private static final int BIG = (int) HeapBudget.BIG;

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);

  private final HttpClient client = HttpClient.newHttpClient();
  private final CompletableFuture<RoutingContext> held = new CompletableFuture<>();
  private Vertx vertx;
  private HttpServer server;
  private Redis redis;
  private Keys keys;

  /** {@code capacity}: the budget's bytes. {@code /digest} answers the body's SHA-256; {@code /hold} waits. */
  private void start(long capacity) {
    start(capacity, BodyReader.STALL_MILLIS);
  }

  private void start(long capacity, long stallMillis) {
    start(capacity, stallMillis, LIMIT);
  }

  /**
   * {@code /execute_function} answers the id of the task its upload stored the body for and the length of the body
   * read (none but an empty one for an upload), or waits with {@code ?hold}, or fails with a 400 with
   * {@code ?refuse}.
   */
  private void start(long capacity, long stallMillis, long limit) {
    vertx = Vertx.vertx();
    redis = shared.server().client(vertx);
    keys = new Keys("body-reader-" + TestRedis.randomTag() + ":");
    Router router = Router.router(vertx);
    router.route().handler(new BodyReader(limit, new BodyBudget(capacity), new TaskStore(redis, keys), 2000,
        stallMillis));
    router.post("/digest").handler(ctx -> {
      Buffer body = ctx.body().buffer();
      ctx.response().end(sha256(body.getBytes()));
    });
    router.post("/hold").handler(held::complete);
    router.post("/execute_function").handler(ctx -> {
      if (ctx.request().params().contains("refuse")) {
        ctx.fail(ApiError.badRequest("refused"));
      } else if (ctx.request().params().contains("hold")) {
        held.complete(ctx);
      } else {
        PickleUpload upload = PickleUpload.of(ctx);
        ctx.response().end((upload == null ? "none" : upload.take()) + " " + ctx.body().length());
      }
    });
    ErrorResponses.install(router, LIMIT);
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void aBodyArrivesWholeWithItsLengthDeclaredOrSentInChunksOrAfterA100Continue() throws Exception {
    start(64L << 20);
    byte[] body = bytes(3 << 20);
    assertEquals(sha256(body), post("/digest", BodyPublishers.ofByteArray(body)).body());
    assertEquals(sha256(body), post("/digest", chunked(body)).body(), "no Content-Length: the buffer grows");
    HttpResponse<String> continued = client.send(request("/digest").expectContinue(true)
        .POST(BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(sha256(body), continued.body());
    assertEquals(sha256(new byte[0]), post("/digest", BodyPublishers.noBody()).body(), "Content-Length: 0");
  }

  @Test
  void aBodyOverTheLimitIsA413NamingItWhetherDeclaredOrFoundWhileReading() throws Exception {
    start(64L << 20);
    byte[] body = bytes(LIMIT + 1);
    for (HttpResponse<String> refused : new HttpResponse[] {post("/digest", BodyPublishers.ofByteArray(body)),
        post("/digest", chunked(body))}) {
      assertEquals(413, refused.statusCode());
      assertTrue(new JsonObject(refused.body()).getString("error").contains("at most " + LIMIT + " bytes (4 MiB)"),
          refused.body());
    }
    assertEquals(sha256(bytes(10)), post("/digest", BodyPublishers.ofByteArray(bytes(10))).body(),
        "the server reads on");
  }

  @Test
  void aBigBodyBeyondTheBudgetIsA503ToRetryUntilTheOneInFlightIsAnswered() throws Exception {
    start(BodyBudget.bytesFor(BIG, false) + 1); // room for one big body, not two
    byte[] big = bytes(BIG);
    CompletableFuture<HttpResponse<String>> first = client.sendAsync(request("/hold")
        .POST(BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofString());
    RoutingContext inFlight = held.get(30, TimeUnit.SECONDS);

    HttpResponse<String> refused = post("/digest", BodyPublishers.ofByteArray(big));
    assertEquals(503, refused.statusCode());
    assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
    assertTrue(new JsonObject(refused.body()).getString("error").contains("busy with other big requests"),
        refused.body());
    assertEquals(Boolean.TRUE, new JsonObject(refused.body()).getBoolean("retry_safe"), "refused before it was read");
    HttpResponse<String> chunked = post("/digest", chunked(big));
    assertEquals(503, chunked.statusCode(), "a chunked body reserves as it grows: " + chunked.body());
    byte[] small = bytes(BIG - 1);
    assertEquals(sha256(small), post("/digest", BodyPublishers.ofByteArray(small)).body(),
        "a smaller body reserves nothing");

    vertx.runOnContext(v -> inFlight.response().end("done"));
    assertEquals("done", first.get(30, TimeUnit.SECONDS).body());
    assertEquals(sha256(big), post("/digest", BodyPublishers.ofByteArray(big)).body(), "its reservation is back");
  }

  @Test
  void aPickleBodyReservesAsTheBase64TextItBecomes() throws Exception {
    start(2 * BodyBudget.bytesFor(BIG, false) + 1); // room for two big JSON bodies
    CompletableFuture<HttpResponse<String>> first = client.sendAsync(request("/hold")
        .POST(BodyPublishers.ofByteArray(bytes(BIG))).build(), HttpResponse.BodyHandlers.ofString());
    RoutingContext inFlight = held.get(30, TimeUnit.SECONDS);

    HttpResponse<String> pickle = client.send(request("/execute_function").setHeader("content-type", PickleBody.TYPE)
        .POST(BodyPublishers.ofByteArray(bytes(BIG))).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(503, pickle.statusCode(), "a third more than the JSON body of its length: " + pickle.body());
    byte[] json = bytes(BIG);
    assertEquals(sha256(json), post("/digest", BodyPublishers.ofByteArray(json)).body(), "which still fits");

    vertx.runOnContext(v -> inFlight.response().end("done"));
    assertEquals("done", first.get(30, TimeUnit.SECONDS).body());
  }

  @Test
  void aPickleBodyWhoseBase64WouldNotFitOneRedisValueIsA413BeforeItIsRead() throws Exception {
    start(1L << 40, BodyReader.STALL_MILLIS, 1L << 31); // a body limit above what a pickle body may be
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      socket.setSoTimeout(60_000);
      socket.getOutputStream().write(("POST /execute_function HTTP/1.1\r\nHost: x\r\nContent-Type: "
          + PickleBody.TYPE + "\r\nContent-Length: " + (PickleBody.MAX_LENGTH + 1) + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      StringBuilder answer = new StringBuilder();
      byte[] piece = new byte[4096];
      while (answer.indexOf("}") < 0) { // the connection stays open: read up to the end of the JSON error
        int n = socket.getInputStream().read(piece);
        assertTrue(n > 0, "closed without an answer: " + answer);
        answer.append(new String(piece, 0, n, StandardCharsets.US_ASCII));
      }
      assertTrue(answer.toString().startsWith("HTTP/1.1 413"), answer.toString());
      assertTrue(answer.toString().contains("at most " + PickleBody.MAX_LENGTH + " bytes"), answer.toString());
    }
    byte[] json = bytes(BIG);
    assertEquals(sha256(json), post("/digest", BodyPublishers.ofByteArray(json)).body(), "a JSON body is not");
  }

  @Test
  void aClientThatHangsUpHalfwayThroughABigBodyGivesItsReservationBack() throws Exception {
    start(BodyBudget.bytesFor(BIG, false) + 1);
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /digest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
          + (2 * BIG) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(bytes(BIG / 2));
      out.flush();
      // the server has the request (its reservation taken) once a second big body is refused
      assertEquals(503, post("/digest", BodyPublishers.ofByteArray(bytes(BIG))).statusCode());
    }
    byte[] big = bytes(BIG);
    HttpResponse<String> after = post("/digest", BodyPublishers.ofByteArray(big));
    for (int i = 0; i < 200 && after.statusCode() == 503; i++) { // the server sees the hang-up a moment later
      Thread.sleep(50);
      after = post("/digest", BodyPublishers.ofByteArray(big));
    }
    assertEquals(sha256(big), after.body(), "the budget is whole again");
  }

  @Test
  void aBigBodyThatStopsArrivingIsA408ItsConnectionClosedAndItsReservationBack() throws Exception {
    start(BodyBudget.bytesFor(BIG, false) + 1, 300);
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /digest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
          + (2 * BIG) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(bytes(BIG / 2));
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
      assertTrue(answer.contains("stopped arriving"), answer); // and readAllBytes ended: the server closed it
    }
    byte[] big = bytes(BIG);
    assertEquals(sha256(big), post("/digest", BodyPublishers.ofByteArray(big)).body(), "the budget is whole again");
  }

  @Test
  void aBigBodyAloneIsLetInEvenWhenItsReservationExceedsTheBudget() throws Exception {
    start(1);
    byte[] big = bytes(3 << 20);
    assertEquals(sha256(big), post("/digest", BodyPublishers.ofByteArray(big)).body());
    assertEquals(sha256(big), post("/digest", BodyPublishers.ofByteArray(big)).body(), "and released after");
  }

  // ---------------------------------------------------------------- big pickle bodies, stored as they arrive

  /** 13 MiB: its 17.3 MiB of base64 is stored in two pieces (LargeValues.PIECE is 16 MiB). */
  private static final int TWO_PIECES = 13 << 20;

  @Test
  void aBigPickleBodyIsStoredInPiecesAsItArrivesAndNeverReadWhole() throws Exception {
    start(1L << 30, BodyReader.STALL_MILLIS, 64 << 20);
    byte[] pickle = pickle(TWO_PIECES);
    HttpResponse<String> answer = postPickle("", pickle);
    assertEquals(200, answer.statusCode(), answer.body());
    String[] idAndBody = answer.body().split(" ");
    assertEquals("0", idAndBody[1], "no body read for the route");
    Map<String, String> hash = TestRedis.hash(redis, keys.task(idAndBody[0]));
    assertEquals("2", hash.get("payload_pieces"));
    assertEquals(Base64.getEncoder().encodeToString(pickle), hash.get("payload") + hash.get("payload_1"));

    byte[] small = pickle(BIG - 1);
    assertEquals("none " + small.length, postPickle("", small).body(), "a small one is read as ever");
  }

  @Test
  void bigPickleBodiesTooManyForTheBudgetWholeAreLetInAtOnceAsPieces() throws Exception {
    long piece = 16 << 20;
    start(2 * HeapBudget.bytesFor(piece) + 1, BodyReader.STALL_MILLIS, 64 << 20);
    assertTrue(2 * BodyBudget.bytesFor(TWO_PIECES, true) > 2 * HeapBudget.bytesFor(piece) + 1,
        "read whole, the second would not fit");
    byte[] pickle = pickle(TWO_PIECES);
    CompletableFuture<HttpResponse<String>> first = client.sendAsync(pickleRequest("?hold", pickle),
        HttpResponse.BodyHandlers.ofString());
    RoutingContext inFlight = held.get(30, TimeUnit.SECONDS);
    HttpResponse<String> second = postPickle("", pickle);
    assertEquals(200, second.statusCode(), "stored as it came, it fits beside the first: " + second.body());
    vertx.runOnContext(v -> inFlight.response().end("done"));
    assertEquals("done", first.get(30, TimeUnit.SECONDS).body());
  }

  @Test
  void aBodyThatOpensOrEndsUnlikeAPickleIsA400AndLeavesNothingStored() throws Exception {
    start(1L << 30, BodyReader.STALL_MILLIS, 64 << 20);
    byte[] opening = pickle(TWO_PIECES);
    opening[0] = 'x';
    long writes = TestRedis.calls(redis, "hset");
    HttpResponse<String> refused = postPickle("", opening);
    assertEquals(400, refused.statusCode());
    assertTrue(refused.body().contains(PickleBody.NOT_PICKLE), refused.body());
    assertEquals(writes, TestRedis.calls(redis, "hset"), "refused at its first bytes: no piece written");
    byte[] ending = pickle(TWO_PIECES);
    ending[ending.length - 1] = 'x';
    refused = postPickle("", ending);
    assertEquals(400, refused.statusCode());
    assertTrue(refused.body().contains(PickleBody.NOT_PICKLE), refused.body());
    assertNothingStored();
  }

  @Test
  void anUploadWhoseRequestEndsWithoutItsTaskDeletesWhatItStored() throws Exception {
    start(1L << 30, BodyReader.STALL_MILLIS, 64 << 20);
    assertEquals(400, postPickle("?refuse", pickle(TWO_PIECES)).statusCode());
    assertNothingStored();
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /execute_function HTTP/1.1\r\nHost: x\r\nContent-Type: " + PickleBody.TYPE
          + "\r\nContent-Length: " + TWO_PIECES + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(pickle(TWO_PIECES), 0, TWO_PIECES - 1024); // a first piece stored, then the client hangs up
      out.flush();
      TestRedis.eventually(Duration.ofSeconds(20), "a first piece stored",
          () -> TestRedis.countKeys(redis, keys.task("*")) == 1);
    }
    assertNothingStored();
  }

  @Test
  void aBodyRedisCannotStoreIsA503ToSendAgain() throws Exception {
    start(1L << 30, BodyReader.STALL_MILLIS, 64 << 20);
    shared.server().kill();
    try {
      HttpResponse<String> refused = postPickle("", pickle(TWO_PIECES));
      assertEquals(503, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("\"retry_safe\":true"), refused.body());
    } finally {
      shared.server().restart();
    }
    assertEquals(200, postPickle("", pickle(TWO_PIECES)).statusCode(), "and stored once Redis is back");
  }

  private void assertNothingStored() {
    TestRedis.eventually(Duration.ofSeconds(20), "what was stored deleted",
        () -> TestRedis.countKeys(redis, keys.task("*")) == 0);
  }

  private HttpRequest pickleRequest(String query, byte[] pickle) {
    return request("/execute_function" + query).setHeader("content-type", PickleBody.TYPE)
        .POST(BodyPublishers.ofByteArray(pickle)).build();
  }

  private HttpResponse<String> postPickle(String query, byte[] pickle) throws Exception {
    return client.send(pickleRequest(query, pickle), HttpResponse.BodyHandlers.ofString());
  }

  /** Random bytes shaped like a pickle stream: a protocol 4 header, and STOP at the end. */
  private static byte[] pickle(int length) {
    byte[] pickle = bytes(length);
    pickle[0] = (byte) 0x80;
    pickle[1] = 4;
    pickle[length - 1] = '.';
    return pickle;
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
        .header("content-type", "application/json");
  }

  private HttpResponse<String> post(String path, BodyPublisher body) throws Exception {
    return client.send(request(path).POST(body).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Java's client sends a body of unknown length in chunks (Transfer-Encoding: chunked). */
  private static BodyPublisher chunked(byte[] body) {
    return BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body));
  }

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    new Random(length).nextBytes(bytes);
    return bytes;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
