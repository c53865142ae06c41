package io.mpcsfaas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A self-signed certificate for 127.0.0.1 and localhost, made by {@code openssl} for a test: it is its own CA. */
public record TestCertificate(Path cert, Path key) {

  /** Writes {@code cert.pem} and {@code key.pem} (PEM, the key unencrypted) into {@code dir}. */
  public static TestCertificate create(Path dir) throws IOException, InterruptedException {
    TestCertificate made = new TestCertificate(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", made.key.toString(), "-out", made.cert.toString()).redirectErrorStream(true).start();
    String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, openssl.waitFor(), "openssl: " + output);
    return made;
  }
}
