package io.mpcsfaas.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;

/**
 * The bench's HTTP client: Vert.x's core client with one kept-alive connection per bench client. The bench
 * shares the machine it measures, so it skips the web client's layer (its request and response pipeline and
 * body codecs): a 20,000-task run took 4.1 to 4.2 s of the bench's CPU with this, 4.6 to 5.2 s with it.
 */
final class BenchHttp {
  /** An answer: its status and body. */
  record Reply(int status, Buffer body) {
    /** The body as a JSON object; null when it is not one. */
    JsonObject json() {
      try {
        return body.toJsonObject();
      } catch (RuntimeException e) {
        return null;
      }
    }

    @Override
    public String toString() {
      return "HTTP " + status + " " + body;
    }
  }

  private final HttpClientAgent client;
  private final String host;
  private final int port;
  private final long timeoutMillis;

  /**
   * A request unanswered after {@code timeoutMillis} fails, so that a server that hangs cannot hang the bench. An
   * https URL is HTTP/1.1 over TLS, trusting the PEM certificates of {@code ca} (null: the JVM's authorities):
   * the same connections and requests as plain HTTP, so that the two compare.
   */
  BenchHttp(Vertx vertx, String url, String ca, int connections, long timeoutMillis) {
    URI uri = URI.create(url);
    boolean https = "https".equals(uri.getScheme());
    this.host = uri.getHost();
    this.port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
    this.timeoutMillis = timeoutMillis;
    HttpClientOptions options = new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setIdleTimeout(0)
        .setSsl(https);
    if (ca != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(ca));
    }
    this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(connections));
  }

  /** POSTs a JSON body (encoded once by the caller, so that a run does not encode the same body again). */
  Future<Reply> post(String path, Buffer json) {
    return send(HttpMethod.POST, path, json);
  }

  Future<Reply> post(String path, JsonObject json) {
    return post(path, json.toBuffer());
  }

  Future<Reply> get(String path) {
    return send(HttpMethod.GET, path, null);
  }

  Future<Void> close() {
    return client.close();
  }

  private Future<Reply> send(HttpMethod method, String path, Buffer json) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost(host).setPort(port).setURI(path)
        .setTimeout(timeoutMillis);
    return client.request(options).compose(request -> {
      if (json == null) {
        return request.send();
      }
      request.putHeader("content-type", "application/json");
      return request.send(json);
    }).compose(response -> response.body().map(body -> new Reply(response.statusCode(), body)));
  }
}
