package io.mpcsfaas;

import static io.mpcsfaas.TestRedis.await;

import io.mpcsfaas.api.ApiVerticle;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.redis.client.Redis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A {@link TestRedis} (its files in a temporary folder of its own) and a Vert.x instance shared by the tests of
 * one class, as a static {@code @RegisterExtension} field: started before the class's {@code @BeforeAll}
 * methods, closed after its {@code @AfterAll} methods. A test method or lifecycle method of the class may
 * take it as a parameter (as {@link KeySpaceTest} does).
 */
public final class RedisAndVertx implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
  private final boolean appendOnly;
  private Path dir;
  private TestRedis server;
  private Vertx vertx;

  /** {@code appendOnly}: the server keeps what was written across a {@link TestRedis#kill()} and restart. */
  public RedisAndVertx(boolean appendOnly) {
    this.appendOnly = appendOnly;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("mpcsfaas-test-redis-");
    server = TestRedis.start(dir, appendOnly);
    vertx = Vertx.vertx();
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    try {
      if (vertx != null) {
        await(vertx.close());
      }
    } finally {
      if (server != null) {
        server.close();
      }
      deleteRecursively(dir);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RedisAndVertx.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return this;
  }

  /** The server, to read its URL, or to kill and restart it. */
  public TestRedis server() {
    return server;
  }

  /** The Vert.x instance the verticles and clients of the class run on. */
  public Vertx vertx() {
    return vertx;
  }

  /** A new client of the server; close it after the test (see {@link TestRedis#client}). */
  public Redis client() {
    return server.client(vertx);
  }

  /** Deploys {@code verticle} with {@code config} and waits until it has started; returns its deployment id. */
  public String deploy(Deployable verticle, JsonObject config) {
    return await(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)));
  }

  /** Undeploys a deployment and waits until it has stopped. */
  public void undeploy(String deploymentId) {
    await(vertx.undeploy(deploymentId));
  }

  /** An API on this server, deployed on a free loopback port, with {@code config} added to (or overriding) that. */
  public DeployedApi deployApi(JsonObject config) {
    ApiVerticle api = new ApiVerticle();
    String id = deploy(api, new JsonObject().put("redis.url", server.url()).put("api.port", 0)
        .put("api.host", "127.0.0.1").mergeIn(config));
    return new DeployedApi(id, api.port());
  }

  /** A deployed API: its deployment id (to undeploy it) and the port it listens on. */
  public record DeployedApi(String deploymentId, int port) {}

  /** An HTTP client of {@code 127.0.0.1:port} that opens a new connection for each request (no keep-alive). */
  public WebClient webClient(int port) {
    return WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(false));
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
