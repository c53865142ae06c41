package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A big submit's body is parsed, and a big result's answer built, on a worker thread, while the API's event loop
 * answers other requests: with every worker held, those two wait and a small request does not.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BigBodiesOffTheEventLoopTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static WebClient http;
  static int port;
  static JsonObject payloads;

  @BeforeAll
  static void setUp() {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x)",
        "out['args'] = enc(((b'a' * (2 << 20),), {}))",
        "out['result'] = enc(b'r' * (2 << 20))",
        "out['longer'] = enc(b'l' * (12 << 20))"));
    port = shared.deployApi(new JsonObject()).port();
    http = shared.webClient(port);
  }

  /** The API's keys. */
  @Override
  protected String prefix() {
    return "faas:";
  }

  /** A task of {@code fid} that ran and COMPLETED with the payload named {@code result} as its result. */
  private String endedWith(String fid, String result) {
    String ended = submit(fid, payloads.getString("args"), null);
    TaskQueue queue = queue("big-bodies-test");
    QueueEntry entry = TaskSteps.claim(queue, ended).get(ended);
    await(TaskSteps.start(queue, entry, "big-bodies-test", 3, "x", "y"));
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString(result), null, "w"));
    return ended;
  }

  @Test
  void aBigSubmitAndABigAnswerWaitForAWorkerWhileTheEventLoopAnswersOthers() throws Exception {
    String fid = register("identity-" + System.nanoTime(), payloads.getString("fn"));
    String ended = endedWith(fid, "result");

    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(VertxOptions.DEFAULT_WORKER_POOL_SIZE);
    for (int i = 0; i < VertxOptions.DEFAULT_WORKER_POOL_SIZE; i++) {
      shared.vertx().executeBlocking(() -> {
        held.countDown();
        return release.await(1, TimeUnit.MINUTES);
      }, false);
    }
    Future<HttpResponse<Buffer>> submitted;
    Future<HttpResponse<Buffer>> read;
    try {
      assertTrue(held.await(10, TimeUnit.SECONDS), "every worker held");
      submitted = http.post("/execute_function").timeout(30_000)
          .sendJsonObject(new JsonObject().put("function_id", fid).put("payload", payloads.getString("args")));
      read = http.get("/result/" + ended).timeout(30_000).send();
      HttpResponse<Buffer> small = await(http.get("/status/" + ended).timeout(10_000).send());
      assertEquals(200, small.statusCode(), "the event loop answers while the workers are held");
      // Built on the event loop, both would be answered within milliseconds; they wait for a worker instead.
      Thread.sleep(2000);
      assertFalse(submitted.isComplete(), "the big submit waits for a worker");
      assertFalse(read.isComplete(), "the big answer waits for a worker");
    } finally {
      release.countDown();
    }
    HttpResponse<Buffer> created = await(submitted);
    assertEquals(201, created.statusCode());
    assertArrayEquals(decoded(payloads.getString("args")),
        decoded(hash(created.bodyAsJsonObject().getString("task_id")).get("payload")));
    HttpResponse<Buffer> answered = await(read);
    assertEquals(200, answered.statusCode());
    assertArrayEquals(decoded(payloads.getString("result")), decoded(answered.bodyAsJsonObject().getString("result")));
  }

  @Test
  void aBigSubmitWithABadFieldGetsItsErrorAsASmallOneDoes() {
    String fid = register("identity-" + System.nanoTime(), payloads.getString("fn"));
    long scripts = TestRedis.calls(redis, "evalsha", "eval");
    for (String query : List.of("", "?wait=soon")) {
      JsonObject body = new JsonObject().put("function_id", fid).put("payload", payloads.getString("args"));
      HttpResponse<Buffer> refused = await(http.post("/execute_function" + query).timeout(10_000)
          .sendJsonObject(query.isEmpty() ? body.put("timeout", "soon") : body));
      assertEquals(400, refused.statusCode(), query);
      assertTrue(refused.bodyAsJsonObject().getString("error").contains(query.isEmpty() ? "timeout" : "wait"),
          refused.bodyAsString());
    }
    assertEquals(scripts, TestRedis.calls(redis, "evalsha", "eval"), "no task created");
  }

  @Test
  void aBigAnswerWrittenInSlicesComesWholeAndLeavesNoErrorBehind() throws Exception {
    String ended = endedWith(register("identity-" + System.nanoTime(), payloads.getString("fn")), "longer");
    List<Throwable> unhandled = new CopyOnWriteArrayList<>();
    shared.vertx().exceptionHandler(unhandled::add);
    try {
      byte[] value = decoded(payloads.getString("longer")); // several times what an answer may queue
      HttpResponse<Buffer> json = await(http.get("/result/" + ended).timeout(30_000).send());
      assertArrayEquals(value, decoded(json.bodyAsJsonObject().getString("result")));
      for (int i = 0; i < 3; i++) { // a reader slower than the writes: the answer waits for drains
        assertArrayEquals(value, readSlowly("/result/" + ended), "the value's pickle itself");
      }
      await(http.get("/status/" + ended).send()); // a drain after the last answer's end comes before this answer
      assertEquals(List.of(), unhandled, "no callback of a written answer failed");
    } finally {
      shared.vertx().exceptionHandler(null);
    }
  }

  /**
   * The pickle answer of {@code path}, through a socket with a small receive buffer, read 64 KiB at a time with a
   * pause after each MiB: the answer's writes wait for drains again and again.
   */
  private static byte[] readSlowly(String path) throws IOException, InterruptedException {
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(1 << 16);
      socket.connect(new InetSocketAddress("127.0.0.1", port));
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + PickleBody.TYPE
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] chunk = new byte[1 << 16];
      int n;
      while ((n = in.read(chunk)) > 0) {
        out.write(chunk, 0, n);
        if (out.size() % (1 << 20) < n) {
          Thread.sleep(20);
        }
      }
      byte[] answer = out.toByteArray();
      String head = new String(answer, 0, Math.min(answer.length, 1024), StandardCharsets.ISO_8859_1);
      assertTrue(head.startsWith("HTTP/1.1 200"), head.lines().findFirst().orElse(""));
      int body = head.indexOf("\r\n\r\n") + 4;
      return Arrays.copyOfRange(answer, body, answer.length);
    }
  }

  private static byte[] decoded(String base64) {
    return Base64.getMimeDecoder().decode(base64);
  }
}
