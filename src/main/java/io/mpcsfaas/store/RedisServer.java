package io.mpcsfaas.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} child process on a loopback port: the embedded default of {@code ./faas up}, and
 * the throwaway server of the tests. Append-only when asked, so a restart on the same folder loses nothing.
 */
public final class RedisServer implements AutoCloseable {
  private static final String INSTALL_HINT = "redis-server is not installed; install it with: apt-get install -y redis-server";
  /**
   * jemalloc (Redis's allocator on Debian) gives freed pages back to the kernel soon after, so every big value
   * or reply (an 8 MiB argument is 11 MiB of base64, four times per call) is faulted in anew, page by page: on
   * these VMs a first touch costs 11-16 us a page, about 40 ms per 11 MiB. Kept instead, the pages serve the next
   * big value; the price is a server that keeps its peak memory. Values it has not held before still fault in
   * fresh pages, so jemalloc also asks for transparent huge pages, 2 MiB a fault instead of 4 KiB, for about
   * 10 MiB more memory at rest (a no-op where the kernel's THP is off; where it is "always", Redis turns it off
   * for itself). A MALLOC_CONF of the caller's own wins.
   */
  private static final String MALLOC_CONF = "dirty_decay_ms:-1,thp:always";

  private final Process process;
  private final int port;
  private final Path dir;

  private RedisServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  /**
   * Starts {@code redis-server} on {@code 127.0.0.1:port} with its files in {@code dir}, and waits for PING to
   * answer with something other than LOADING (a restarted server refuses commands while it reads its files);
   * {@code options} go on its command line (as {@code "--replicaof", "127.0.0.1", "6380"}).
   */
  public static RedisServer start(int port, Path dir, boolean appendOnly, String... options) throws IOException {
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no",
        "--appendonly", appendOnly ? "yes" : "no", "--logfile", "redis.log"));
    command.addAll(List.of(options));
    Process process;
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      builder.environment().putIfAbsent("MALLOC_CONF", MALLOC_CONF);
      process = builder.start();
    } catch (IOException e) {
      throw new IOException(INSTALL_HINT, e);
    }
    RedisServer server = new RedisServer(process, port, dir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (String reply = pingReply("127.0.0.1", port); reply == null || reply.startsWith("-LOADING");
        reply = pingReply("127.0.0.1", port)) {
      // the deadline is for starting: reading a large append-only file may take longer, and shows progress
      if (!process.isAlive() || (reply == null && System.nanoTime() > deadline)) {
        server.close();
        throw new IOException("redis-server did not start on port " + port + "; see " + dir.resolve("redis.log"));
      }
      sleep(20);
    }
    return server;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public Path dir() {
    return dir;
  }

  /** Stops the server (SIGTERM: it flushes its append-only file first). */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the server at once, as a crash would. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** True when something at {@code host:port} answers a Redis PING (with or without a password). */
  public static boolean answers(String host, int port) {
    return pingReply(host, port) != null;
  }

  /** The first line of the answer to a PING at {@code host:port}, or null when nothing answers it. */
  private static String pingReply(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 500);
      socket.setSoTimeout(1000);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
      return line != null && (line.startsWith("+") || line.startsWith("-")) ? line : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Host and port of a {@code redis://} URL. */
  public static InetSocketAddress address(String url) {
    URI uri = URI.create(url);
    return InetSocketAddress.createUnresolved(uri.getHost() == null ? "127.0.0.1" : uri.getHost(),
        uri.getPort() < 0 ? 6379 : uri.getPort());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
