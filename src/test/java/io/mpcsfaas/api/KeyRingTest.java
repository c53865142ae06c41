package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.store.Tenant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys file: what it must hold, which tenant a key stands for, and a reload that keeps the keys on a bad file. */
class KeyRingTest {
  private static final String KEYS = """
      {"keys": [
        {"key": "alice-key", "tenant": "alice", "max_in_flight": 5},
        {"key": "ops-key", "tenant": "ops", "admin": true}
      ]}""";

  @TempDir
  Path dir;

  private Path file(String text) throws IOException {
    return Files.writeString(dir.resolve("keys.json"), text);
  }

  @Test
  void aKeyStandsForItsTenantWithItsRightsAndLimit() throws IOException {
    KeyRing ring = KeyRing.load(file(KEYS), "");
    assertEquals(new Tenant("alice", false, 5), ring.tenant("alice-key"));
    assertEquals(new Tenant("ops", true, 0), ring.tenant("ops-key"));
    assertTrue(ring.required());
  }

  @Test
  void onlyTheWholeKeyIsAccepted() throws IOException {
    KeyRing ring = KeyRing.load(file(KEYS), "");
    assertNull(ring.tenant("alice-ke"), "a prefix");
    assertNull(ring.tenant("alice-key "), "one character more");
    assertNull(ring.tenant("Alice-key"));
    assertNull(ring.tenant(""));
    assertNull(ring.tenant("ops"), "a tenant's name is no key");
  }

  @Test
  void theSingleKeyIsAnAdminOfNoTenantBesideTheFile() throws IOException {
    KeyRing both = KeyRing.load(file(KEYS), "single");
    assertEquals(Tenant.NONE, both.tenant("single"));
    assertEquals("alice", both.tenant("alice-key").name());

    KeyRing alone = KeyRing.load(null, "single");
    assertEquals(Tenant.NONE, alone.tenant("single"));
    assertTrue(alone.required());
    assertFalse(KeyRing.load(null, "").required(), "no key at all: the API is open");
    assertTrue(KeyRing.load(file("{\"keys\": []}"), "").required(), "a file without keys yet refuses everyone");
  }

  @Test
  void aBadFileIsRefusedNamingItAndWhatIsWrong() throws IOException {
    String[][] cases = {
        {"not json", "not JSON"},
        {"[]", "expected {\"keys\""},
        {"{\"keys\": {}}", "expected {\"keys\""},
        {"{\"keys\": [\"k\"]}", "keys[0]: must be an object"},
        {"{\"keys\": [{\"tenant\": \"a\"}]}", "keys[0]: 'key'"},
        {"{\"keys\": [{\"key\": \"\", \"tenant\": \"a\"}]}", "keys[0]: 'key'"},
        {"{\"keys\": [{\"key\": \"k\"}]}", "keys[0]: 'tenant'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a:b\"}]}", "keys[0]: 'tenant'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a\", \"admin\": \"yes\"}]}", "keys[0]: 'admin'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a\", \"max_in_flight\": -1}]}", "keys[0]: 'max_in_flight'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a\", \"max_in_flight\": 1.5}]}", "keys[0]: 'max_in_flight'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a\", \"max_inflight\": 1}]}", "keys[0]: unknown field 'max_inflight'"},
        {"{\"keys\": [{\"key\": \"k\", \"tenant\": \"a\"}, {\"key\": \"k\", \"tenant\": \"b\"}]}",
            "keys[1]: the same key is given twice"},
    };
    for (String[] c : cases) {
      Path file = file(c[0]);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeyRing.load(file, ""), c[0]);
      assertTrue(e.getMessage().startsWith("API keys file " + file + ": "), e.getMessage());
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
    Path missing = dir.resolve("missing.json");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyRing.load(missing, "")).getMessage()
        .contains(missing.toString()));
    Path file = file(KEYS);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyRing.load(file, "ops-key")).getMessage()
        .contains("--api-key"), "the single key may not be one of the file's too");
  }

  @Test
  void aReloadTakesTheNewKeysAndABadFileKeepsTheOld() throws IOException {
    Path file = file(KEYS);
    KeyRing ring = KeyRing.load(file, "single");

    Files.writeString(file, "{\"keys\": [{\"key\": \"carol-key\", \"tenant\": \"carol\"}]}");
    assertTrue(ring.reload());
    assertEquals("carol", ring.tenant("carol-key").name());
    assertNull(ring.tenant("alice-key"), "a key taken out of the file is refused from now on");
    assertEquals(Tenant.NONE, ring.tenant("single"), "the single key stays");

    Files.writeString(file, "{\"keys\": [{\"key\": \"dave-key\"}]}");
    assertFalse(ring.reload());
    assertEquals("carol", ring.tenant("carol-key").name(), "the keys in use stay");
    assertNull(ring.tenant("dave-key"));

    Files.delete(file);
    assertFalse(ring.reload());
    assertEquals("carol", ring.tenant("carol-key").name());
  }
}
