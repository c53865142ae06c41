package io.mpcsfaas.api;

import io.mpcsfaas.store.Tenant;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API keys and the tenant each stands for: those of a keys file ({@code --api-keys}), re-read on
 * {@link #reload}, plus the single {@code --api-key}, an admin of no tenant. Keys are held only as their SHA-256
 * digests, and a presented key is hashed and its digest looked up: how long a lookup takes depends on the
 * digest, which tells nothing usable about any key, never on how much of a key was guessed right. Lookups may
 * run on any thread while a reload swaps the whole table at once.
 */
final class KeyRing {
  private static final Logger LOG = LoggerFactory.getLogger(KeyRing.class);
  private static final Set<String> ENTRY_FIELDS = Set.of("key", "tenant", "admin", "max_in_flight");

  private final Path file;
  private final String singleKey;
  private volatile Map<ByteBuffer, Tenant> tenants;

  private KeyRing(Path file, String singleKey, Map<ByteBuffer, Tenant> tenants) {
    this.file = file;
    this.singleKey = singleKey;
    this.tenants = tenants;
  }

  /**
   * The keys of {@code file} (null: none) and {@code singleKey} (empty: none); fails with
   * IllegalArgumentException, naming the file, when it cannot be read or is not a valid keys file.
   */
  static KeyRing load(Path file, String singleKey) {
    return new KeyRing(file, singleKey, read(file, singleKey));
  }

  /**
   * Whether requests need a key at all (else every caller is {@link Tenant#NONE}): with a keys file, even one
   * that holds none yet (a reload may add some).
   */
  boolean required() {
    return file != null || !singleKey.isEmpty();
  }

  /** The tenant of a presented key; null for a key it does not hold. */
  Tenant tenant(String presented) {
    return tenants.get(digest(presented));
  }

  /**
   * Reads the keys file again and uses it from now on; when it cannot be read or is not valid, keeps the keys
   * it had and logs why. Answers whether the new keys are in use.
   */
  boolean reload() {
    if (file == null) {
      LOG.warn("no API keys file to re-read (start with --api-keys FILE)");
      return false;
    }
    try {
      Map<ByteBuffer, Tenant> fresh = read(file, singleKey);
      tenants = fresh;
      LOG.info("re-read {}: {} API keys", file, fresh.size());
      return true;
    } catch (IllegalArgumentException e) {
      LOG.error("keeping the API keys in use: {}", e.getMessage());
      return false;
    }
  }

  private static Map<ByteBuffer, Tenant> read(Path file, String singleKey) {
    Map<ByteBuffer, Tenant> tenants = new HashMap<>();
    if (file != null) {
      String problem = "API keys file " + file + ": ";
      String text;
      try {
        text = Files.readString(file);
      } catch (IOException e) {
        throw new IllegalArgumentException(problem + "cannot be read (" + e + ")");
      }
      try {
        parse(text, tenants);
      } catch (DecodeException e) {
        throw new IllegalArgumentException(problem + "not JSON: " + e.getMessage().lines().findFirst().orElse(""));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(problem + e.getMessage());
      }
    }
    if (!singleKey.isEmpty() && tenants.putIfAbsent(digest(singleKey), Tenant.NONE) != null) {
      throw new IllegalArgumentException("the --api-key is also in " + file + ": give it once");
    }
    return Map.copyOf(tenants);
  }

  /** {@code {"keys": [{"key": K, "tenant": T, "admin": B, "max_in_flight": N}, ...]}}, every field checked. */
  private static void parse(String text, Map<ByteBuffer, Tenant> tenants) {
    if (!(Json.decodeValue(text) instanceof JsonObject root) || !(root.getValue("keys") instanceof JsonArray keys)) {
      throw new IllegalArgumentException("expected {\"keys\": [{\"key\": ..., \"tenant\": ...}, ...]}");
    }
    for (int i = 0; i < keys.size(); i++) {
      String where = "keys[" + i + "]: ";
      if (!(keys.getValue(i) instanceof JsonObject entry)) {
        throw new IllegalArgumentException(where + "must be an object");
      }
      for (String field : entry.fieldNames()) {
        if (!ENTRY_FIELDS.contains(field)) {
          throw new IllegalArgumentException(where + "unknown field '" + field + "' (known: " + ENTRY_FIELDS + ")");
        }
      }
      if (!(entry.getValue("key") instanceof String key) || key.isEmpty()) {
        throw new IllegalArgumentException(where + "'key' must be a non-empty string");
      }
      if (!(entry.getValue("tenant") instanceof String name) || !Tenant.NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(where + "'tenant' must be a name matching " + Tenant.NAME.pattern());
      }
      Object admin = entry.getValue("admin", false);
      if (!(admin instanceof Boolean isAdmin)) {
        throw new IllegalArgumentException(where + "'admin' must be true or false");
      }
      Object limit = entry.getValue("max_in_flight", 0);
      if (!(limit instanceof Integer maxInFlight) || maxInFlight < 0) {
        throw new IllegalArgumentException(where + "'max_in_flight' must be a whole number, 0 or more (0: no limit)");
      }
      if (tenants.put(digest(key), new Tenant(name, isAdmin, maxInFlight)) != null) {
        throw new IllegalArgumentException(where + "the same key is given twice");
      }
    }
  }

  private static ByteBuffer digest(String key) {
    try {
      return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
