package io.mpcsfaas.cli;

import io.mpcsfaas.transport.CurveKeys;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./faas keygen}: a CURVE key pair for a dispatcher or a worker, as two files. */
@Command(name = "keygen", sortOptions = false, mixinStandardHelpOptions = false,
    customSynopsis = "./faas keygen --out DIR [--name NAME]")
final class Keygen implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "folder to write NAME.key (the secret, mode 0600) and NAME.pub into; created if missing")
  private Path out;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "curve",
      description = "name of the two files, e.g. dispatcher or worker-1 [default ${DEFAULT-VALUE}]")
  private String name;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
  private boolean help;

  @Override
  public Integer call() throws IOException {
    CurveKeys.Generated pair = CurveKeys.generate(out, name);
    System.out.println("secret key: " + pair.secretFile() + " (give it to this process only: --curve-secret-key)");
    System.out.println("public key: " + pair.publicFile() + " " + pair.publicKey());
    return 0;
  }
}
