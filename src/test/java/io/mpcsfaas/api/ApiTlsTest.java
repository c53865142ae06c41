package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestCertificate;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The API with {@code api.tls_cert} and {@code api.tls_key}: a certificate made by openssl for this run. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiTlsTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  @TempDir
  static Path dir;
  static String cert;
  static String key;
  static int port;
  static String deployment;

  @BeforeAll
  static void start() throws Exception {
    TestCertificate certificate = TestCertificate.create(dir);
    cert = certificate.cert().toString();
    key = certificate.key().toString();
    RedisAndVertx.DeployedApi api = shared.deployApi(tls(cert, key));
    port = api.port();
    deployment = api.deploymentId();
  }

  @AfterAll
  static void stop() {
    shared.undeploy(deployment);
  }

  @Test
  void anHttp2ClientGetsTheApiOverTlsThroughAlpn() {
    Answer answer = await(get(trusting().setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true)));
    assertEquals(HttpVersion.HTTP_2, answer.version(), "HTTP/2 negotiated through ALPN");
    assertEquals(200, answer.status());
    assertTrue(answer.body().containsKey("functions"), "an answer of the API itself: " + answer);
  }

  @Test
  void anHttp11ClientGetsTheApiOverTlsToo() {
    Answer answer = await(get(trusting().setProtocolVersion(HttpVersion.HTTP_1_1)));
    assertEquals(HttpVersion.HTTP_1_1, answer.version());
    assertEquals(200, answer.status());
    assertTrue(answer.body().containsKey("functions"), "an answer of the API itself: " + answer);
  }

  @Test
  void plainHttpOnTheTlsPortGetsNoAnswer() {
    Throwable failure = awaitFailure(get(new HttpClientOptions()));
    assertTrue(failure.getMessage() != null && failure.getMessage().toLowerCase().contains("closed"),
        "the server closes a connection that does not start TLS: " + failure);
  }

  @Test
  void aClientThatDoesNotTrustTheCertificateIsRefused() {
    Throwable failure = awaitFailure(get(new HttpClientOptions().setSsl(true)));
    assertInstanceOf(SSLHandshakeException.class, failure, "the handshake fails: " + failure);
  }

  @Test
  void aCertificateWithoutItsKeyFailsTheStartNamingTheMissingFlag() {
    Throwable failure = awaitFailure(deploy(tls(cert, "")));
    assertEquals("--tls-cert and --tls-key go together: --tls-key is missing", failure.getMessage());
  }

  @Test
  void anUnreadableFileFailsTheStartNamingItsFlag() {
    String missing = dir.resolve("missing.pem").toString();
    Throwable failure = awaitFailure(deploy(tls(missing, key)));
    assertEquals("--tls-cert " + missing + ": no such file", failure.getMessage());
    failure = awaitFailure(deploy(tls(cert, dir.toString())));
    assertEquals("--tls-key " + dir + ": not a readable file", failure.getMessage());
  }

  private static JsonObject tls(String certPath, String keyPath) {
    return new JsonObject().put("api.tls_cert", certPath).put("api.tls_key", keyPath);
  }

  private static Future<String> deploy(JsonObject config) {
    return shared.vertx().deployVerticle(new ApiVerticle(), new DeploymentOptions().setConfig(new JsonObject()
        .put("redis.url", shared.server().url()).put("api.port", 0).put("api.host", "127.0.0.1").mergeIn(config)));
  }

  private static HttpClientOptions trusting() {
    return new HttpClientOptions().setSsl(true).setTrustOptions(new PemTrustOptions().addCertPath(cert));
  }

  /** What the API answered: the protocol, the status and the JSON body. */
  record Answer(HttpVersion version, int status, JsonObject body) {}

  /** GET /functions with a client of {@code options} of its own, closed after the answer. */
  private static Future<Answer> get(HttpClientOptions options) {
    HttpClientAgent client = shared.vertx().createHttpClient(options);
    return client.request(HttpMethod.GET, port, "127.0.0.1", "/functions")
        .compose(request -> request.send())
        .compose(response -> response.body()
            .map(body -> new Answer(response.version(), response.statusCode(), body.toJsonObject())))
        .eventually(client::close);
  }
}
