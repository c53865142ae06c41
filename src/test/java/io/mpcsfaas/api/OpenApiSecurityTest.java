package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.RedisAndVertx;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The OpenAPI document's security against what an API with a key really does: every documented operation,
 * asked without the key, answers 401 exactly when the document says it needs one, and with the key as
 * {@code ?key=} exactly when the document does not offer that scheme.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpenApiSecurityTest {
  private static final String KEY = "s3cret";
  private static final Set<String> METHODS = Set.of("get", "post", "put", "delete", "patch");

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);

  @Test
  void anOperationRefusesAMissingKeyExactlyWhenTheDocumentSaysItNeedsOne() {
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("api.key", KEY));
    HttpClientAgent client = shared.vertx().createHttpClient(new HttpClientOptions()
        .setDefaultHost("127.0.0.1").setDefaultPort(api.port()));
    try {
      JsonObject document = await(client.request(HttpMethod.GET, "/openapi.json")
          .compose(request -> request.send().compose(response -> response.body()))).toJsonObject();
      JsonArray global = document.getJsonArray("security");
      List<String> checked = new ArrayList<>();
      List<String> open = new ArrayList<>();
      JsonObject paths = document.getJsonObject("paths");
      for (String path : paths.fieldNames()) {
        // Any id will do: the key is checked before the route looks the id up.
        String uri = path.replaceAll("\\{[a-z_]+}", UUID.randomUUID().toString());
        JsonObject operations = paths.getJsonObject(path);
        for (String method : operations.fieldNames()) {
          if (!METHODS.contains(method)) {
            continue;
          }
          JsonArray security = operations.getJsonObject(method).getJsonArray("security", global);
          // An empty requirement ({}) among the alternatives, or none at all, makes the key optional.
          boolean needsKey = !security.isEmpty() && !security.contains(new JsonObject());
          boolean queryKey = security.stream().anyMatch(r -> ((JsonObject) r).containsKey("queryKey"));
          String operation = method.toUpperCase() + " " + path;

          int withoutKey = status(client, method, uri, null);
          assertEquals(needsKey, withoutKey == 401, operation + " without a key answered " + withoutKey
              + ", the document says it " + (needsKey ? "needs" : "does not need") + " one");
          int asQuery = status(client, method, uri + "?key=" + KEY, null);
          assertEquals(needsKey && !queryKey, asQuery == 401, operation + " with ?key= answered " + asQuery);
          int withKey = status(client, method, uri, "Bearer " + KEY);
          assertNotEquals(401, withKey, operation + " with the key");
          checked.add(operation);
          if (!needsKey) {
            open.add(operation);
          }
        }
      }
      assertTrue(checked.size() > 15, "every documented operation checked: " + checked);
      assertEquals(Set.of("GET /health", "GET /openapi.json", "GET /docs", "GET /"), Set.copyOf(open),
          "the operations open without a key");
    } finally {
      await(client.close());
    }
  }

  /**
   * The status of one request, read as soon as the head arrives (the live feed never ends); the connection
   * is closed then, so a stream does not hold it.
   */
  private static int status(HttpClientAgent client, String method, String uri, String authorization) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.valueOf(method.toUpperCase())).setURI(uri);
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    return await(client.request(options).compose(request -> request.send().compose(response -> {
      int status = response.statusCode();
      return request.connection().close().map(status);
    })));
  }
}
