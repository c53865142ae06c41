package io.mpcsfaas.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.task.PickledException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The API's cheap "is this a base64 pickle" check, against payloads real Python produced. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PicklePayloadTest {
  private static JsonObject payloads;

  @BeforeAll
  static void makePayloads() {
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))",
        "out['big'] = enc(list(range(2000)))",
        "out['none'] = enc(None)",
        "for proto in range(0, 6):",
        "    out['args_p%d' % proto] = codecs.encode(pickle.dumps(((21,), {}), protocol=proto), 'base64').decode()",
        "out['str_p0'] = codecs.encode(pickle.dumps('abc', protocol=0), 'base64').decode()",
        "out['int_p0'] = codecs.encode(pickle.dumps(7, protocol=0), 'base64').decode()",
        "out['list_p1'] = codecs.encode(pickle.dumps([1, 2], protocol=1), 'base64').decode()",
        "out['dill_p0'] = enc(lambda x: x + 1, protocol=0)",
        "out['plain_b64'] = base64.b64encode(dill.dumps((1, 2))).decode()",
        ""));
  }

  @Test
  void acceptsRealDillPayloadsWithCodecsLineBreaks() {
    String big = payloads.getString("big");
    assertTrue(big.contains("\n"), "codecs base64 output has line breaks");
    for (String name : new String[] {"double", "args", "big", "none", "dill_p0", "plain_b64"}) {
      assertNull(PicklePayload.problem(payloads.getString(name)), name);
    }
    // CRLF line breaks (a client on Windows) are tolerated too.
    assertNull(PicklePayload.problem(big.replace("\n", "\r\n")));
  }

  @Test
  void acceptsEveryPickleProtocol() {
    for (int proto = 0; proto <= 5; proto++) {
      assertNull(PicklePayload.problem(payloads.getString("args_p" + proto)), "protocol " + proto);
    }
    assertNull(PicklePayload.problem(payloads.getString("str_p0")));
    assertNull(PicklePayload.problem(payloads.getString("int_p0")));
    assertNull(PicklePayload.problem(payloads.getString("list_p1")));
  }

  @Test
  void acceptsThePlatformsOwnExceptionPickles() {
    assertNull(PicklePayload.problem(PickledException.encode("RuntimeError", "worker lost")));
  }

  @Test
  void rejectsTextThatIsNotBase64() {
    assertNotNull(PicklePayload.problem("payload"));
    assertNotNull(PicklePayload.problem(""));
    assertNotNull(PicklePayload.problem("\n"));
    assertNotNull(PicklePayload.problem("gAJLFS4*"), "'*' is not a base64 character");
    assertNotNull(PicklePayload.problem("gAJL FS4="), "a space is not base64");
    assertNotNull(PicklePayload.problem("gAJLFS4é"), "non-ASCII");
    assertNotNull(PicklePayload.problem("gAJLFS4"), "length not a multiple of 4");
    assertNotNull(PicklePayload.problem("gA=JLFS4"), "data after padding");
    assertNotNull(PicklePayload.problem("-_-_"), "URL-safe alphabet is not what codecs produces");
  }

  @Test
  void rejectsPaddingOnlyWithoutCrashing() {
    // Four '=' decode to no byte at all; the check must say so rather than throw.
    String problem = assertDoesNotThrow(() -> PicklePayload.problem("===="));
    assertNotNull(problem);
    String afterData = assertDoesNotThrow(() -> PicklePayload.problem("gAJLFS4=\n===="));
    assertNotNull(afterData);
  }

  @Test
  void rejectsBase64OfBytesThatAreNotAPickle() {
    assertNotNull(PicklePayload.problem("aGVsbG8="), "base64 of 'hello'");
    assertNotNull(PicklePayload.problem(Base64.getEncoder().encodeToString("{\"a\": 1}".getBytes())));
    assertNotNull(PicklePayload.problem("Lg=="), "a lone STOP opcode");
    // A pickle cut short: right header, no STOP at the end.
    String args = payloads.getString("args").replace("\n", "");
    byte[] bytes = Base64.getDecoder().decode(args);
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 1);
    assertNotNull(PicklePayload.problem(Base64.getEncoder().encodeToString(truncated)));
    // Protocol header with an impossible version.
    assertNotNull(PicklePayload.problem(Base64.getEncoder().encodeToString(new byte[] {(byte) 0x80, 9, 'N', '.'})));
  }

  @Test
  void theCheckOfPlainBytesSaysWhatTheCheckOfTextSays() {
    List<String> cases = new ArrayList<>();
    payloads.fieldNames().forEach(name -> cases.add(payloads.getString(name).replace("\n", "")));
    cases.addAll(List.of("payload", "", "gAJLFS4*", "gAJL FS4=", "gAJLFS4é", "gAJLFS4", "gA=JLFS4", "-_-_",
        "====", "aGVsbG8=", "Lg==", "gAJLFS4\\", "gAJLFS4=gAJLFS4="));
    // several pieces of 64 Ki characters: a pickle, and padding where the first piece ends
    byte[] pickle = new byte[200_000];
    pickle[0] = (byte) 0x80;
    pickle[1] = 4;
    pickle[pickle.length - 1] = '.';
    cases.add(Base64.getEncoder().encodeToString(pickle));
    cases.add("gASV" + "A".repeat((1 << 16) - 8) + "AA==" + "AAAALg==");
    for (String text : cases) {
      byte[] body = ("{\"payload\": \"" + text + "\"}").getBytes(StandardCharsets.ISO_8859_1);
      int from = "{\"payload\": \"".length();
      assertEquals(PicklePayload.problem(text), PicklePayload.plainProblem(body, from, from + text.length()),
          text.length() > 40 ? text.length() + " characters" : text);
    }
  }
}
