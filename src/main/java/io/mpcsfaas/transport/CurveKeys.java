package io.mpcsfaas.transport;

import com.neilalexander.jnacl.crypto.curve25519;
import io.mpcsfaas.config.CurveConfig;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.zeromq.ZMQ;

/**
 * ZeroMQ CURVE keys in files: one Z85 key (40 characters) on a line, {@code #} comments and blank lines
 * ignored. A key pair is {@code NAME.key} (the secret, readable by its owner only) and {@code NAME.pub}; the
 * public key is derived from the secret, so a process needs only its {@code .key} file.
 */
public final class CurveKeys {
  /** The keys and the files of a pair made by {@link #generate}. */
  public record Generated(String publicKey, Path publicFile, Path secretFile) {}

  private CurveKeys() {}

  /** Writes a new key pair into {@code dir} as {@code name.key} (mode 0600) and {@code name.pub}; never overwrites. */
  public static Generated generate(Path dir, String name) throws IOException {
    ZMQ.Curve.KeyPair pair = ZMQ.Curve.generateKeyPair();
    Files.createDirectories(dir);
    Path secret = dir.resolve(name + ".key");
    Path pub = dir.resolve(name + ".pub");
    for (Path file : List.of(secret, pub)) {
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file + " exists; remove it or choose another --name");
      }
    }
    // Created with its mode, so that the secret is never readable by others, not even for a moment.
    Files.createFile(secret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(secret, "# CURVE secret key of " + name + ": keep it private\n" + pair.secretKey + "\n",
        StandardOpenOption.TRUNCATE_EXISTING);
    Files.writeString(pub, "# CURVE public key of " + name + "\n" + pair.publicKey + "\n",
        StandardOpenOption.CREATE_NEW);
    return new Generated(pair.publicKey, pub, secret);
  }

  /** The public key of a Z85 secret key (Curve25519's base point times the secret). */
  public static String publicOf(String secretKey) {
    byte[] pub = new byte[ZMQ.Curve.KEY_SIZE];
    curve25519.crypto_scalarmult_base(pub, ZMQ.Curve.z85Decode(secretKey));
    return ZMQ.Curve.z85Encode(pub);
  }

  /** The one key in {@code file}; fails naming the file when it has none, several, or one that is not Z85. */
  public static String read(Path file) {
    List<String> keys = keysIn(file);
    if (keys.size() != 1) {
      throw new IllegalArgumentException("CURVE key file " + file + " must hold one key, found " + keys.size());
    }
    return keys.get(0);
  }

  /**
   * The public keys in {@code fileOrDir}: every key of a file, or the key of each {@code .pub} file of a
   * folder; fails when there is none (no worker could connect).
   */
  public static Set<String> readAuthorized(Path fileOrDir) {
    Set<String> keys = new LinkedHashSet<>();
    if (Files.isDirectory(fileOrDir)) {
      try (Stream<Path> files = Files.list(fileOrDir)) {
        files.filter(f -> f.getFileName().toString().endsWith(".pub")).sorted().forEach(f -> keys.add(read(f)));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot list " + fileOrDir + ": " + e.getMessage(), e);
      }
    } else {
      keys.addAll(keysIn(fileOrDir));
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no CURVE public keys in " + fileOrDir);
    }
    return keys;
  }

  /**
   * A dispatcher's CURVE: its secret key and the workers it accepts; null when neither is configured (plain),
   * an error when only one is.
   */
  public static CurveServer server(CurveConfig conf) {
    if (conf.secretKeyFile().isBlank() && conf.authorizedKeys().isBlank()) {
      return null;
    }
    if (conf.secretKeyFile().isBlank() || conf.authorizedKeys().isBlank()) {
      throw new IllegalArgumentException("a CURVE dispatcher needs both --curve-secret-key (its own) and "
          + "--curve-authorized-keys (its workers' public keys)");
    }
    return new CurveServer(read(Path.of(conf.secretKeyFile())), readAuthorized(Path.of(conf.authorizedKeys())));
  }

  /**
   * A worker's CURVE: its own key pair and the dispatcher's public key; null when neither is configured
   * (plain), an error when only one is.
   */
  public static CurveClient client(CurveConfig conf) {
    if (conf.secretKeyFile().isBlank() && conf.serverKeyFile().isBlank()) {
      return null;
    }
    if (conf.secretKeyFile().isBlank() || conf.serverKeyFile().isBlank()) {
      throw new IllegalArgumentException("a CURVE worker needs both --curve-secret-key (its own) and "
          + "--curve-server-key (the dispatcher's public key)");
    }
    String secret = read(Path.of(conf.secretKeyFile()));
    return new CurveClient(publicOf(secret), secret, read(Path.of(conf.serverKeyFile())));
  }

  private static List<String> keysIn(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read CURVE key file " + file + ": " + e, e);
    }
    List<String> keys = lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    for (String key : keys) {
      if (key.length() != ZMQ.Curve.KEY_SIZE_Z85 || decodes(key) == null) {
        throw new IllegalArgumentException("CURVE key file " + file + " holds '" + abbreviate(key)
            + "', not a Z85 key of " + ZMQ.Curve.KEY_SIZE_Z85 + " characters");
      }
    }
    return keys;
  }

  private static byte[] decodes(String key) {
    try {
      byte[] bytes = ZMQ.Curve.z85Decode(key);
      return bytes != null && bytes.length == ZMQ.Curve.KEY_SIZE ? bytes : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** A line shown in an error, cut short: it may be a secret pasted into the wrong file. */
  private static String abbreviate(String line) {
    return line.length() <= 8 ? line : line.substring(0, 8) + "...";
  }
}
