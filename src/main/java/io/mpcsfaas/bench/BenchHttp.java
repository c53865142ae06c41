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

  /** A request unanswered after {@code timeoutMillis} fails, so that a server that hangs cannot hang the bench. */
  BenchHttp(Vertx vertx, String url, int connections, long timeoutMillis) {
    URI uri = URI.create(url);
    this.host = uri.getHost();
    this.port = uri.getPort() < 0 ? 80 : uri.getPort();
    this.timeoutMillis = timeoutMillis;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(connections));
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
