package io.mpcsfaas.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./faas status}: queue depth, workers and recent throughput of a running platform, from its API. */
@Command(name = "status", sortOptions = false, mixinStandardHelpOptions = false,
    customSynopsis = "./faas status [--url URL] [--api-key KEY] [--ca FILE] [--interval S]")
final class Status implements Callable<Integer> {
  @Option(names = "--url", paramLabel = "URL", defaultValue = "http://127.0.0.1:8000",
      description = "the platform's API [default ${DEFAULT-VALUE}]")
  private String url;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:FAAS_API_KEY}",
      description = "its API key [$FAAS_API_KEY, default none]")
  private String apiKey;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "PEM certificates to trust for an https URL, e.g. the API's own self-signed --tls-cert "
          + "[default: the JVM's trusted authorities]")
  private Path ca;

  @Option(names = "--interval", paramLabel = "S", defaultValue = "2",
      description = "seconds between the two samples that give the throughput [default ${DEFAULT-VALUE}]")
  private double interval;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
  private boolean help;

  @Spec
  private CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (!(interval > 0)) {
      throw new ParameterException(spec.commandLine(), "--interval must be above 0, got " + interval);
    }
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
    if (ca != null) {
      builder.sslContext(trusting(ca));
    }
    HttpClient http = builder.build();
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
    JsonObject environments = second.getJsonObject("environments");
    if (environments != null && !environments.getJsonArray("waited_for").isEmpty()) {
      out.append("tasks wait for environments no live worker offers: "
          + String.join(", ", environments.getJsonArray("waited_for").stream().map(String::valueOf).toList())
          + " (start a worker with --env NAME=PYTHON)\n");
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

  /** TLS that trusts exactly the certificates of a PEM file. */
  private static SSLContext trusting(Path pem) throws IOException {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trusted.setCertificateEntry("ca" + trusted.size(), certificate);
      }
      if (trusted.size() == 0) {
        throw new IOException("--ca " + pem + ": no PEM certificate in it");
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (NoSuchFileException e) {
      throw new IOException("--ca " + pem + ": no such file", e);
    } catch (GeneralSecurityException e) {
      throw new IOException("--ca " + pem + ": " + e.getMessage(), e);
    }
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
      // A refused connection has no message of its own.
      throw new IOException("found no MPCSFaaS API at " + url
          + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"), e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(url + "/stats answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }
}
