package io.mpcsfaas.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.config.CurveConfig;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key files as ./faas keygen writes them and the CURVE flags read them. */
class CurveKeysTest {

  @Test
  void aGeneratedPairIsTwoFilesWithAPrivateSecretWhosePublicKeyDerivesFromIt(@TempDir Path dir) throws Exception {
    CurveKeys.Generated pair = CurveKeys.generate(dir.resolve("keys"), "worker-1");
    assertEquals(dir.resolve("keys/worker-1.pub"), pair.publicFile());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pair.secretFile())));
    assertEquals(pair.publicKey(), CurveKeys.read(pair.publicFile()));
    assertEquals(pair.publicKey(), CurveKeys.publicOf(CurveKeys.read(pair.secretFile())));
    assertThrows(FileAlreadyExistsException.class, () -> CurveKeys.generate(dir.resolve("keys"), "worker-1"),
        "an existing key is never overwritten");
  }

  @Test
  void authorizedKeysComeFromALineEachOrFromTheFilesOfAFolder(@TempDir Path dir) throws Exception {
    String a = CurveKeys.generate(dir.resolve("workers"), "a").publicKey();
    String b = CurveKeys.generate(dir.resolve("workers"), "b").publicKey();
    Files.writeString(dir.resolve("list"), "# workers\n\n" + a + "\n  " + b + "  \n");
    assertEquals(Set.of(a, b), CurveKeys.readAuthorized(dir.resolve("list")));
    assertEquals(Set.of(a, b), CurveKeys.readAuthorized(dir.resolve("workers")), "the .pub files, not the .key");
    Files.writeString(dir.resolve("empty"), "# nobody\n");
    assertThrows(IllegalArgumentException.class, () -> CurveKeys.readAuthorized(dir.resolve("empty")));
  }

  @Test
  void aFileThatIsNotOneZ85KeyIsRefusedWithoutShowingItWhole(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("bad"), "not-a-key-but-perhaps-a-secret-of-40-ch\n");
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> CurveKeys.read(dir.resolve("bad")));
    assertTrue(bad.getMessage().contains(dir.resolve("bad").toString()), bad.getMessage());
    assertTrue(!bad.getMessage().contains("perhaps"), bad.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CurveKeys.read(dir.resolve("missing")));
  }

  @Test
  void bothEndsNeedBothOfTheirFilesOrNone(@TempDir Path dir) throws Exception {
    CurveKeys.Generated server = CurveKeys.generate(dir, "dispatcher");
    CurveKeys.Generated worker = CurveKeys.generate(dir, "worker");
    String none = "";
    assertNull(CurveKeys.server(new CurveConfig(none, none, none)));
    assertNull(CurveKeys.client(new CurveConfig(none, none, none)));
    assertThrows(IllegalArgumentException.class,
        () -> CurveKeys.server(new CurveConfig(server.secretFile().toString(), none, none)));
    assertThrows(IllegalArgumentException.class,
        () -> CurveKeys.client(new CurveConfig(none, none, server.publicFile().toString())));
    CurveClient client = CurveKeys.client(new CurveConfig(worker.secretFile().toString(), none,
        server.publicFile().toString()));
    assertEquals(worker.publicKey(), client.publicKey());
    assertEquals(server.publicKey(), client.serverKey());
    CurveServer accepting = CurveKeys.server(new CurveConfig(server.secretFile().toString(),
        worker.publicFile().toString(), none));
    assertEquals(Set.of(worker.publicKey()), accepting.authorizedKeys());
  }
}
