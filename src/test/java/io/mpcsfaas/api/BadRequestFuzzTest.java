package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded fuzzing of every route with requests the API must refuse: each gets a 4xx JSON error (never a 500,
 * never a hang), and none of them changes anything stored. Rerun a failure with {@code -Dfuzz.seed=N}; the
 * generated cases are written to {@code target/bad-request-fuzz.log}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BadRequestFuzzTest {
  private static final long SEED = Long.getLong("fuzz.seed", 0x5EED_F422L);
  private static final int CASES = 1200;
  private static final int PARALLEL = 8;
  private static final int BODY_LIMIT = 65536;
  private static final long ANSWER_MILLIS = 5000;
  private static final String JSON = "application/json";
  /** Every status a refusal may have. */
  private static final Set<Integer> REFUSALS = Set.of(400, 404, 405, 413, 415);
  private static final Set<Integer> S400 = Set.of(400);
  private static final Set<Integer> S404 = Set.of(404);
  private static final Set<Integer> S405 = Set.of(405);
  private static final Set<Integer> S413 = Set.of(413);
  private static final Set<Integer> S415 = Set.of(415);
  private static final Set<Integer> S400_404 = Set.of(400, 404);

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static Redis redis;
  static HttpClientAgent http;
  static int port;
  static JsonObject payloads;
  static String fnPayload;
  static String argsPayload;
  static List<String> functions = new ArrayList<>();
  static List<String> tasks = new ArrayList<>();

  /** One generated request, and the statuses it may get (always a subset of {@link #REFUSALS}). */
  record Case(int n, String kind, String detail, HttpMethod method, String uri, String contentType, byte[] body,
      boolean chunked, Set<Integer> expected) {
    /** The API refuses a non-JSON content type on any route (415) before it looks at anything else. */
    Case {
      String type = contentType == null ? null : contentType.toLowerCase();
      if (type != null && !type.contains("json") && !type.startsWith("text/plain")) {
        Set<Integer> widened = new java.util.HashSet<>(expected);
        widened.add(415);
        expected = Set.copyOf(widened);
      }
    }

    String describe() {
      String shown;
      if (body == null) {
        shown = "(no body)";
      } else {
        String text = new String(body, StandardCharsets.UTF_8);
        shown = body.length + " bytes: " + (text.length() > 300
            ? text.substring(0, 200) + " ... " + text.substring(text.length() - 60) : text);
        shown = shown.replace("\n", "\\n").replace("\r", "\\r");
      }
      String uriShown = uri.length() > 300 ? uri.substring(0, 300) + "...(" + uri.length() + " chars)" : uri;
      return "#" + n + " [" + kind + (detail.isEmpty() ? "" : ": " + detail) + "] " + method + " " + uriShown
          + " content-type=" + contentType + (chunked ? " chunked" : "") + " expected " + expected + " body " + shown;
    }
  }

  record Reply(int status, String contentType, Buffer body, long millis) {}

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))",
        "out['result'] = enc(42)"));
    fnPayload = payloads.getString("fn");
    argsPayload = payloads.getString("args");
    redis = shared.client();
    port = shared.deployApi(new JsonObject().put("api.body_limit", BODY_LIMIT)).port();
    http = shared.vertx().createHttpClient(
        new HttpClientOptions().setKeepAlive(true).setDefaultHost("127.0.0.1").setDefaultPort(port),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(PARALLEL));

    // What is stored before the fuzzing: functions, and tasks QUEUED, RUNNING and COMPLETED.
    for (String name : List.of("double", "twice", "again")) {
      Reply r = send(HttpMethod.POST, "/register_function", JSON,
          bytes(new JsonObject().put("name", name).put("payload", fnPayload).encode()), false);
      assertEquals(201, r.status(), r.body().toString());
      functions.add(r.body().toJsonObject().getString("function_id"));
    }
    for (int i = 0; i < 4; i++) {
      Reply r = send(HttpMethod.POST, "/execute_function", JSON, bytes(new JsonObject()
          .put("function_id", functions.get(i % functions.size())).put("payload", argsPayload).encode()), false);
      assertEquals(201, r.status(), r.body().toString());
      tasks.add(r.body().toJsonObject().getString("task_id"));
    }
    TaskQueue queue = new TaskQueue(redis, new Keys("faas:"), "fuzz", 0);
    Map<String, QueueEntry> entries = TaskSteps.claim(queue, tasks.toArray(String[]::new));
    await(TaskSteps.start(queue, entries.get(tasks.get(0)), "fuzz", 3, "x", "y"));
    await(TaskSteps.start(queue, entries.get(tasks.get(1)), "fuzz", 3, "x", "y"));
    assertTrue(await(TaskSteps.finish(queue, entries.get(tasks.get(1)), TaskStatus.COMPLETED,
        payloads.getString("result"), null, "fuzz")));
  }

  // ---------------------------------------------------------------- the test

  @Test
  void everyBadRequestIsAFastJsonRefusalThatChangesNothing() throws IOException {
    long keysBefore = TestRedis.dbsize(redis);
    Map<String, String> before = snapshot();

    List<Case> cases = generate(new Random(SEED));
    List<String> log = new ArrayList<>();
    log.add("seed " + SEED + ", " + cases.size() + " cases against port " + port);
    List<String> failures = new ArrayList<>();
    Map<String, Map<Integer, Integer>> statusesByKind = new TreeMap<>();
    // A few requests in flight at a time (each timed from its own start), to keep the class fast.
    List<Future<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      if (i >= PARALLEL) {
        replies.get(i - PARALLEL).otherwiseEmpty().await(); // each has its own time limit
      }
      replies.add(sendAsync(cases.get(i)));
    }
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      log.add(c.describe());
      String problem;
      Reply reply = null;
      try {
        reply = await(replies.get(i));
        problem = check(c, reply);
      } catch (Throwable t) {
        problem = "no answer: " + t;
      }
      if (reply != null) {
        statusesByKind.computeIfAbsent(c.kind(), k -> new TreeMap<>()).merge(reply.status(), 1, Integer::sum);
        log.add("    -> " + reply.status() + " in " + reply.millis() + " ms: " + abbreviate(reply.body().toString()));
      }
      if (problem != null) {
        log.add("    FAILED: " + problem);
        failures.add(c.describe() + "\n    -> " + problem);
      }
    }
    Path logFile = Path.of("target", "bad-request-fuzz.log");
    Files.createDirectories(logFile.getParent());
    // getBytes replaces what cannot be encoded (a generated lone surrogate), where Files.write(lines) threw
    Files.write(logFile, String.join("\n", log).getBytes(StandardCharsets.UTF_8));
    System.out.println("BadRequestFuzzTest: " + cases.size() + " cases (seed " + SEED + "), statuses by kind: "
        + statusesByKind + "; log in " + logFile.toAbsolutePath());

    String summary = failures.size() + " of " + cases.size() + " bad requests were mishandled (seed " + SEED
        + ", full log " + logFile.toAbsolutePath() + "):\n"
        + String.join("\n", failures.subList(0, Math.min(40, failures.size())));
    assertAll(
        () -> assertTrue(failures.isEmpty(), summary),
        () -> assertNothingChanged(keysBefore, before, cases.size()),
        () -> assertValidRequestsStillWork(keysBefore));
  }

  private static void assertNothingChanged(long keysBefore, Map<String, String> before, int cases) {
    assertEquals(keysBefore, TestRedis.dbsize(redis), "DBSIZE after " + cases + " refused requests");
    Map<String, String> after = snapshot();
    for (Map.Entry<String, String> key : before.entrySet()) {
      assertEquals(key.getValue(), after.get(key.getKey()), "content of " + key.getKey());
    }
    assertEquals(before, after, "every key and its content");
  }

  private static void assertValidRequestsStillWork(long keysBefore) {
    Reply registered = send(HttpMethod.POST, "/register_function", JSON,
        bytes(new JsonObject().put("name", "after").put("payload", fnPayload).encode()), false);
    assertEquals(201, registered.status(), registered.body().toString());
    String fid = registered.body().toJsonObject().getString("function_id");
    Reply executed = send(HttpMethod.POST, "/execute_function", "application/json; charset=utf-8",
        bytes(new JsonObject().put("function_id", fid).put("payload", argsPayload).encode()), false);
    assertEquals(201, executed.status(), executed.body().toString());
    String tid = executed.body().toJsonObject().getString("task_id");
    Reply status = send(HttpMethod.GET, "/status/" + tid, null, null, false);
    assertEquals(200, status.status(), status.body().toString());
    assertEquals(new JsonObject().put("task_id", tid).put("status", "QUEUED"), status.body().toJsonObject());
    Reply completed = send(HttpMethod.GET, "/result/" + tasks.get(1), null, null, false);
    assertEquals("COMPLETED", completed.body().toJsonObject().getString("status"));
    assertTrue(TestRedis.exists(redis, "faas:function:" + fid) && TestRedis.exists(redis, "faas:task:" + tid));
    assertTrue(TestRedis.dbsize(redis) >= keysBefore + 2, "the function and the task were stored");
  }

  /**
   * The smallest requests behind the fuzzer's findings, one per cause, so that a failure names the cause
   * directly: each must get a JSON refusal like any other bad request.
   */
  static Stream<Arguments> reproducers() {
    String form = "application/x-www-form-urlencoded";
    return Stream.of(
        Arguments.of("GET with a form content type and a body (400 for the bad id, not 500)", HttpMethod.GET,
            "/status/not-a-uuid", form, "a=b", S400),
        Arguments.of("GET with a form content type and an empty body", HttpMethod.GET, "/result/not-a-uuid", form,
            "", S400),
        Arguments.of("GET with a form body and a bad wait", HttpMethod.GET, "/result/KNOWN_TASK?wait=-1", form,
            "a=b", S400),
        Arguments.of("OPTIONS (wrong method) with a form body", HttpMethod.OPTIONS, "/functions", form, "a=b", S405),
        Arguments.of("malformed percent-escape in the path", HttpMethod.GET, "/status/%ZZ", null, null, S400_404),
        Arguments.of("truncated percent-escape in the path", HttpMethod.GET, "/functions/%", null, null, S400_404),
        Arguments.of("malformed percent-escape in the query of a route with a path parameter", HttpMethod.GET,
            "/result/KNOWN_TASK?wait=%ZZ", null, null, S400));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reproducers")
  void fuzzerFindingsGetJsonRefusals(String name, HttpMethod method, String uri, String contentType, String body,
      Set<Integer> expected) {
    long keysBefore = TestRedis.dbsize(redis);
    Case c = new Case(0, "reproducer", name, method, uri.replace("KNOWN_TASK", tasks.get(0)), contentType,
        body == null ? null : bytes(body), false, expected);
    String problem = check(c, send(c));
    assertNull(problem, c.describe() + "\n    -> " + problem);
    assertEquals(keysBefore, TestRedis.dbsize(redis));
  }

  /** Null when the reply is an acceptable refusal, else what is wrong with it. */
  private static String check(Case c, Reply reply) {
    List<String> problems = new ArrayList<>();
    if (!REFUSALS.contains(reply.status())) {
      problems.add("status " + reply.status() + " is not a refusal " + REFUSALS);
    } else if (!c.expected().contains(reply.status())) {
      problems.add("status " + reply.status() + ", expected one of " + c.expected());
    }
    if (reply.millis() > ANSWER_MILLIS) {
      problems.add("answered after " + reply.millis() + " ms");
    }
    if (reply.contentType() == null || !reply.contentType().startsWith(JSON)) {
      problems.add("content-type " + reply.contentType());
    }
    try {
      Object json = reply.body().toJsonValue();
      if (!(json instanceof JsonObject obj) || !(obj.getValue("error") instanceof String error) || error.isBlank()) {
        problems.add("body is not {\"error\": \"...\"}");
      }
    } catch (RuntimeException e) {
      problems.add("body is not JSON");
    }
    if (problems.isEmpty()) {
      return null;
    }
    return String.join("; ", problems) + "; body: " + abbreviate(reply.body().toString());
  }

  // ---------------------------------------------------------------- generating cases

  private enum Route {
    REGISTER(HttpMethod.POST), EXECUTE(HttpMethod.POST), BATCH(HttpMethod.POST), RESULTS(HttpMethod.POST),
    STATUS(HttpMethod.GET), RESULT(HttpMethod.GET), FUNCTIONS(HttpMethod.GET), FUNCTION(HttpMethod.GET);

    final HttpMethod method;

    Route(HttpMethod method) {
      this.method = method;
    }

    boolean post() {
      return method == HttpMethod.POST;
    }
  }

  /** Builds the cases: routes in turn, each with a kind of badness picked at random among those that apply. */
  private static List<Case> generate(Random rnd) {
    List<Case> cases = new ArrayList<>();
    Route[] routes = Route.values();
    for (int n = 0; n < CASES; n++) {
      Route route = routes[n % routes.length];
      cases.add(route.post() ? postCase(n, route, rnd) : getCase(n, route, rnd));
    }
    return cases;
  }

  private static Case postCase(int n, Route route, Random rnd) {
    String path = switch (route) {
      case REGISTER -> "/register_function";
      case EXECUTE -> "/execute_function";
      case BATCH -> "/execute_function/batch";
      default -> "/results";
    };
    int pick = rnd.nextInt(route == Route.REGISTER ? 8 : 9);
    return switch (pick) {
      case 0 -> malformed(n, path, route, rnd);
      case 1 -> wrongTypes(n, path, route, rnd);
      case 2 -> missingFields(n, path, route, rnd);
      case 3 -> oversize(n, route.method, path, rnd);
      case 4 -> wrongMethod(n, path, rnd, true);
      case 5 -> wrongContentType(n, path, route, rnd);
      case 6 -> route == Route.RESULTS ? badUuidInBody(n, path, route, rnd) : badPayload(n, path, route, rnd);
      case 7 -> route == Route.REGISTER ? badPayload(n, path, route, rnd) : badUuidInBody(n, path, route, rnd);
      default -> badNumbers(n, path, route, rnd);
    };
  }

  private static Case getCase(int n, Route route, Random rnd) {
    String known = switch (route) {
      case FUNCTION -> "/functions/" + pickOne(rnd, functions);
      case FUNCTIONS -> "/functions";
      case STATUS -> "/status/" + pickOne(rnd, tasks);
      default -> "/result/" + pickOne(rnd, tasks);
    };
    int pick = rnd.nextInt(6);
    if (route == Route.FUNCTIONS) {
      return switch (pick) {
        case 0 -> oversize(n, HttpMethod.GET, maybeQuery(rnd, known), rnd);
        case 1, 2 -> wrongMethod(n, known, rnd, false);
        default -> badLimit(n, rnd);
      };
    }
    String base = known.substring(0, known.lastIndexOf('/') + 1);
    return switch (pick) {
      case 0 -> oversize(n, HttpMethod.GET, rnd.nextBoolean() ? known : base + uuid(rnd), rnd);
      case 1 -> wrongMethod(n, known + (route == Route.RESULT && rnd.nextBoolean() ? "?wait=1" : ""), rnd, false);
      case 2 -> unknownId(n, base, route, rnd);
      case 3 -> route == Route.RESULT ? badWait(n, known, rnd) : badUuidInPath(n, base, route, rnd);
      default -> badUuidInPath(n, base, route, rnd);
    };
  }

  /** Bodies that are not JSON at all. */
  private static Case malformed(int n, String path, Route route, Random rnd) {
    String valid = validBody(route, rnd).encode();
    byte[] body;
    String what;
    switch (rnd.nextInt(9)) {
      case 0 -> {
        body = bytes(valid.substring(0, rnd.nextInt(valid.length())));
        what = "truncated JSON";
      }
      case 1 -> {
        body = new byte[1 + rnd.nextInt(400)];
        rnd.nextBytes(body);
        what = "random bytes";
      }
      case 2 -> {
        int depth = 1001 + rnd.nextInt(30_000);
        body = bytes("[".repeat(depth) + (rnd.nextBoolean() ? "]".repeat(depth) : ""));
        what = "deeply nested arrays (" + depth + ")";
      }
      case 3 -> {
        int depth = 1001 + rnd.nextInt(20_000);
        String field = pickOne(rnd, List.copyOf(validBody(route, rnd).fieldNames()));
        body = bytes(valid.replaceFirst("\"" + field + "\":", java.util.regex.Matcher.quoteReplacement(
            "\"" + field + "\":" + "[".repeat(depth) + "1" + "]".repeat(depth) + ",\"x" + field + "\":")));
        what = "deeply nested arrays in '" + field + "' (" + depth + ")";
      }
      case 4 -> {
        int depth = 1001 + rnd.nextInt(5_000);
        body = bytes("{\"a\":".repeat(depth) + "1" + "}".repeat(depth));
        what = "deeply nested objects (" + depth + ")";
      }
      case 5 -> {
        body = bytes(pickOne(rnd, List.of("{", "}", "{]", "[}", "{\"name\"}", "{\"name\":}", "{name: \"f\"}",
            "{'name': 'f'}", "{\"name\": \"f\",}", "{\"timeout\": NaN}", "NaN", "Infinity", "{\"a\": -Infinity}",
            "{\"a\": 01}", "{\"a\": .5}", "{\"a\": 1.}", "{\"a\": \"\\x41\"}", "{\"a\": \"\\u12\"}",
            "/* comment */ {}", "{\"a\": 1} // comment", "{\"a\": undefined}", "{\"a\": True}", "\"unterminated",
            "{\"a\": [1, 2}", "{\"a\" \"b\"}", "{\"a\": 1 \"b\": 2}", "{}}", "{}{}", "[]]", ",", ":", "\u0000",
            "{\"a\": \"tab\there\"}", "{\"a\": \"line\nbreak\"}")));
        what = "invalid JSON syntax";
      }
      case 6 -> {
        byte[] prefix = bytes(valid.substring(0, valid.length() - 1) + ",\"name2\":\"");
        byte[] junk = new byte[2 + rnd.nextInt(20)];
        for (int i = 0; i < junk.length; i++) {
          junk[i] = (byte) (0x80 + rnd.nextInt(0x40)); // stray UTF-8 continuation bytes
        }
        body = concat(prefix, junk, bytes("\"}"));
        what = "invalid UTF-8 in a string";
      }
      case 7 -> {
        body = bytes(valid + pickOne(rnd, List.of("x", "}", "]", ",", " {}", " []", "\"", " 1", " null")));
        what = "JSON object followed by trailing garbage";
      }
      default -> {
        StringBuilder text = new StringBuilder();
        int length = 1 + rnd.nextInt(200);
        for (int i = 0; i < length; i++) {
          text.append((char) (32 + rnd.nextInt(95)));
        }
        body = bytes("{" + text.toString().replace("}", ")"));
        what = "random printable text";
      }
    }
    return new Case(n, "malformed JSON", what, HttpMethod.POST, path, JSON, body, false, S400);
  }

  /** Valid JSON with a field (or the whole body) of the wrong type. */
  private static Case wrongTypes(int n, String path, Route route, Random rnd) {
    if (rnd.nextInt(4) == 0) {
      String body = pickOne(rnd, List.of("[]", "[" + validBody(route, rnd).encode() + "]", "42", "-1.5e3", "null",
          "true", "false", "\"" + fnPayload.substring(0, 16) + "\"", "\"\"", "[null]", "1e999"));
      return new Case(n, "wrong JSON type", "body " + abbreviate(body), HttpMethod.POST, path, JSON, bytes(body),
          false, S400);
    }
    JsonObject body = validBody(route, rnd);
    List<String> fields = new ArrayList<>(body.fieldNames());
    fields.remove("timeout");
    fields.remove("wait");
    String field = pickOne(rnd, fields);
    Object wrong = wrongValue(rnd, body.getValue(field));
    if (field.equals("payloads") || field.equals("task_ids")) {
      JsonArray array = body.getJsonArray(field).copy();
      switch (rnd.nextInt(4)) {
        case 0 -> array.set(rnd.nextInt(array.size()), wrongValue(rnd, array.getValue(0)));
        case 1 -> array.add(wrongValue(rnd, array.getValue(0)));
        default -> {
          body.put(field, wrong);
          return new Case(n, "wrong JSON type", "'" + field + "' " + typeName(wrong), HttpMethod.POST, path, JSON,
              bytes(body.encode()), false, S400);
        }
      }
      body.put(field, array);
      return new Case(n, "wrong JSON type", "an item of '" + field + "'", HttpMethod.POST, path, JSON,
          bytes(body.encode()), false, S400);
    }
    body.put(field, wrong);
    return new Case(n, "wrong JSON type", "'" + field + "' " + typeName(wrong), HttpMethod.POST, path, JSON,
        bytes(body.encode()), false, S400);
  }

  /** A value of another JSON type than {@code original}'s (null included). */
  private static Object wrongValue(Random rnd, Object original) {
    List<Object> candidates = new ArrayList<>(List.of(42, -7.25, true, false, new JsonArray(),
        new JsonArray().add("a").add(1), new JsonObject(), new JsonObject().put("name", "f").put("nested",
            new JsonObject().put("deeper", new JsonArray().add(new JsonObject()))), Long.MAX_VALUE));
    candidates.add(null);
    if (!(original instanceof String)) {
      candidates.add("text");
      candidates.add("");
    }
    return candidates.get(rnd.nextInt(candidates.size()));
  }

  private static String typeName(Object value) {
    return value == null ? "null" : value.getClass().getSimpleName() + " " + value;
  }

  private static Case missingFields(int n, String path, Route route, Random rnd) {
    JsonObject body = validBody(route, rnd);
    List<String> required = new ArrayList<>(body.fieldNames());
    required.remove("timeout");
    required.remove("wait");
    String what;
    if (rnd.nextInt(5) == 0) {
      body = new JsonObject();
      if (rnd.nextBoolean()) {
        body.put("unrelated", "field");
      }
      what = "all fields";
    } else {
      String field = pickOne(rnd, required);
      body.remove(field);
      if (rnd.nextBoolean()) {
        body.put(field.toUpperCase(), "misspelled"); // a look-alike does not count
      }
      what = "'" + field + "'";
    }
    return new Case(n, "missing field", what, HttpMethod.POST, path, JSON, bytes(body.encode()), false, S400);
  }

  private static Case oversize(int n, HttpMethod method, String path, Random rnd) {
    int size = BODY_LIMIT + 1 + (rnd.nextInt(10) == 0 ? rnd.nextInt(4 * BODY_LIMIT) : rnd.nextInt(BODY_LIMIT / 4));
    byte[] body;
    if (rnd.nextBoolean()) {
      body = bytes(new JsonObject().put("name", "big").put("function_id", functions.get(0))
          .put("payload", "A".repeat(size)).encode());
    } else {
      body = new byte[size];
      rnd.nextBytes(body);
    }
    boolean chunked = rnd.nextInt(3) == 0;
    return new Case(n, "oversize body", body.length + " bytes" + (chunked ? ", chunked" : ""), method, path, JSON,
        body, chunked, S413);
  }

  private static Case wrongMethod(int n, String path, Random rnd, boolean postRoute) {
    List<HttpMethod> methods = new ArrayList<>(List.of(HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH));
    if (path.startsWith("/functions/")) {
      methods.remove(HttpMethod.DELETE); // deletes the function
    }
    methods.add(postRoute ? HttpMethod.GET : HttpMethod.POST);
    if (rnd.nextInt(4) == 0) {
      methods = List.of(HttpMethod.OPTIONS);
    }
    HttpMethod method = pickOne(rnd, methods);
    byte[] body = rnd.nextBoolean() ? null : bytes(validBody(pathRoute(path), rnd).encode());
    return new Case(n, "wrong method", method.name(), method, path, body == null ? null : JSON, body, false, S405);
  }

  private static Case wrongContentType(int n, String path, Route route, Random rnd) {
    String type = pickOne(rnd, List.of("application/x-www-form-urlencoded", "text/xml", "application/xml",
        "text/html", "application/octet-stream", "image/png", "text/csv", "multipart/form-data; boundary=xyz",
        "TEXT/XML; charset=utf-8"));
    byte[] body;
    // A form body is decoded by the body handler before the route sees it: a malformed one may be a 400.
    Set<Integer> expected = S415;
    switch (rnd.nextInt(3)) {
      case 0 -> body = bytes(validBody(route, rnd).encode());
      case 1 -> {
        body = bytes(type.contains("form-urlencoded") ? "name=f&payload=" + URLEncoder.encode(fnPayload,
            StandardCharsets.UTF_8) + "&bad=%ZZ" : "<task><name>f</name></task>");
        if (type.contains("form-urlencoded")) {
          expected = Set.of(400, 415);
        }
      }
      default -> body = bytes("--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nf\r\n--xyz--\r\n");
    }
    if (type.equals("application/octet-stream") && path.equals("/execute_function")) {
      expected = Set.of(400); // a submit may be a pickle itself, with its function_id in the query: none is
    }
    return new Case(n, "wrong content type", type, HttpMethod.POST, path, type, body, false, expected);
  }

  /** A payload that is not base64 of a pickle, in an otherwise valid body. */
  private static Case badPayload(int n, String path, Route route, Random rnd) {
    String payload;
    String what;
    switch (rnd.nextInt(9)) {
      case 0 -> {
        payload = "payload";
        what = "\"payload\"";
      }
      case 1 -> {
        byte[] raw = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(raw);
        if (raw[raw.length - 1] == '.') {
          raw[raw.length - 1] = 'x'; // a pickle ends with STOP; this must not look like one
        }
        payload = Base64.getMimeEncoder().encodeToString(raw);
        what = "base64 of random bytes";
      }
      case 2 -> {
        payload = Base64.getEncoder().encodeToString(bytes(pickOne(rnd, List.of("hello", "{\"a\": 1}",
            "def f(x): return x", "import os; os.system('id')", "\u00e9t\u00e9 \u2603"))));
        what = "base64 of text";
      }
      case 3 -> {
        String base = pickOne(rnd, List.of(fnPayload, argsPayload));
        int at = rnd.nextInt(base.length());
        char bad = pickOne(rnd, List.of('*', '-', '_', ' ', '\t', '%', '!', '\u00e9', '\u4e2d', '\u0000', '.', '~'));
        payload = base.substring(0, at) + bad + base.substring(at);
        what = "a real payload with '" + bad + "' inserted";
      }
      case 4 -> {
        String base = pickOne(rnd, List.of(fnPayload, argsPayload)).replace("\n", "");
        payload = base.substring(0, 1 + rnd.nextInt(base.length() - 1));
        if (payload.replace("=", "").length() % 4 == 0 || base.endsWith(payload)) {
          payload = payload + "A";
        }
        payload = payload.length() % 4 == 0 ? payload + "A" : payload;
        what = "truncated real payload";
      }
      case 5 -> {
        payload = pickOne(rnd, List.of("", "=", "==", "====", "A===", "AA=A", "QQ==QQ==", "gAJ*LFS4", "\n\n",
            "gASV.", "Z0FTVi4=", "  ", "null"));
        what = "junk";
      }
      case 6 -> {
        payload = Base64.getUrlEncoder().encodeToString(new byte[] {(byte) 0x80, 4, (byte) 0xfb, (byte) 0xff,
            (byte) 0xfe, '.'});
        what = "url-safe base64 alphabet";
      }
      case 7 -> {
        payload = Base64.getEncoder().encodeToString(new byte[] {(byte) 0x80, (byte) (6 + rnd.nextInt(200)), 'K',
            1, '.'});
        what = "a pickle header of an unknown protocol";
      }
      default -> {
        payload = "data:application/octet-stream;base64," + fnPayload;
        what = "a data URL";
      }
    }
    JsonObject body = validBody(route, rnd);
    if (route == Route.BATCH) {
      JsonArray list = body.getJsonArray("payloads");
      list.set(rnd.nextInt(list.size()), payload);
    } else {
      body.put("payload", payload);
    }
    return new Case(n, "bad payload", what, HttpMethod.POST, path, JSON, bytes(body.encode()), false, S400);
  }

  private static Case badUuidInBody(int n, String path, Route route, Random rnd) {
    String id = badId(rnd);
    JsonObject body = validBody(route, rnd);
    if (route == Route.RESULTS) {
      JsonArray ids = body.getJsonArray("task_ids");
      ids.set(rnd.nextInt(ids.size()), id);
    } else {
      body.put("function_id", id);
    }
    return new Case(n, "bad UUID in body", abbreviate(id), HttpMethod.POST, path, JSON, bytes(body.encode()),
        false, S400);
  }

  /** Out-of-range or mistyped numbers: {@code timeout} of execute and batch, {@code wait} of /results. */
  private static Case badNumbers(int n, String path, Route route, Random rnd) {
    Object value = pickOne(rnd, List.of(-1, 0, -0.5, 0.5, 86_401, 1e308, -1e308, Long.MAX_VALUE, Long.MIN_VALUE,
        "5", "NaN", "Infinity", "", true, new JsonArray().add(5), new JsonObject().put("s", 5)));
    String field = route == Route.RESULTS ? "wait" : "timeout";
    if (field.equals("wait") && value instanceof Number number && number.doubleValue() >= 0
        && number.doubleValue() <= ApiVerticle.MAX_WAIT_SECONDS) {
      value = -number.doubleValue() - 1; // 0 and 0.5 are valid waits
    }
    JsonObject body = validBody(route, rnd).put(field, value);
    String text = body.encode();
    if (rnd.nextInt(4) == 0) {
      // Numbers JSON encoders would not write: huge integers, overflowing exponents.
      String literal = pickOne(rnd, List.of("123456789012345678901234567890", "-99999999999999999999", "1e400",
          "-1e400", "9e99999"));
      text = body.put(field, 1).encode().replace("\"" + field + "\":1", "\"" + field + "\":" + literal);
      value = literal;
    }
    return new Case(n, "bad " + field, String.valueOf(value), HttpMethod.POST, path, JSON, bytes(text), false, S400);
  }

  private static Case badUuidInPath(int n, String base, Route route, Random rnd) {
    String id = badIdInUrl(rnd);
    String uri = base + id;
    if (route == Route.RESULT && rnd.nextBoolean()) {
      uri += "?wait=" + pickOne(rnd, List.of("1", "0", "10"));
    } else if (route == Route.FUNCTION && rnd.nextBoolean()) {
      uri += "?payload=true";
    }
    Case c = new Case(n, "bad UUID in path", "", HttpMethod.GET, uri, null, null, false, S400_404);
    return rnd.nextInt(4) == 0 ? withIgnoredBody(c, rnd) : c;
  }

  private static Case unknownId(int n, String base, Route route, Random rnd) {
    String id = uuid(rnd);
    String uri = base + (rnd.nextBoolean() ? id : id.toUpperCase());
    if (route == Route.RESULT && rnd.nextBoolean()) {
      uri += "?wait=" + pickOne(rnd, List.of("1", "30", "60", "0.5"));
    }
    return new Case(n, "unknown id", "", HttpMethod.GET, uri, null, null, false, S404);
  }

  private static Case badWait(int n, String known, Random rnd) {
    String wait = pickOne(rnd, List.of("-1", "-0.001", "61", "60.5", "1e9", "99999999999999999999999", "abc", "NaN",
        "-NaN", "Infinity", "-Infinity", "", "%ZZ", "1,5", "0x10", "1e400", "ten", "%00", "1%2F2", "true", "[]",
        "%E2%88%9E", "1.2.3", "--1", "e5"));
    Case c = new Case(n, "bad wait", wait, HttpMethod.GET, known + "?wait=" + wait, null, null, false, S400);
    return rnd.nextInt(4) == 0 ? withIgnoredBody(c, rnd) : c;
  }

  private static Case badLimit(int n, Random rnd) {
    List<String> badLimits = List.of("0", "-1", "1001", "99999999999", "abc", "NaN", "", "1.5", "1e2", "%ZZ",
        "-2147483648", "2147483648", "Infinity", "0x10");
    List<String> badOffsets = List.of("-1", "abc", "2147483648", "NaN", "1.5", "", "-0.5", "99999999999999");
    String query = switch (rnd.nextInt(3)) {
      case 0 -> "limit=" + pickOne(rnd, badLimits);
      case 1 -> "offset=" + pickOne(rnd, badOffsets);
      default -> "limit=" + pickOne(rnd, badLimits) + "&offset=" + pickOne(rnd, List.of("0", "1", "abc", "-5"));
    };
    return new Case(n, "bad limit/offset", query, HttpMethod.GET, "/functions?" + query, null, null, false, S400);
  }

  /** A GET with a body its route ignores: the refusal comes from the URL alone. */
  private static Case withIgnoredBody(Case c, Random rnd) {
    String type = pickOne(rnd, List.of(JSON, "text/xml", "application/x-www-form-urlencoded"));
    byte[] body = bytes(pickOne(rnd, List.of("{\"truncated\": ", "<xml/>", "a=b&c=%ZZ", "[[[[")));
    return new Case(c.n(), c.kind() + " (GET with a body)", type, c.method(), c.uri(), type, body, false,
        c.expected());
  }

  private static String maybeQuery(Random rnd, String path) {
    return rnd.nextBoolean() ? path : path + "?limit=5&offset=0";
  }

  /** Ids that are not canonical UUIDs, as JSON strings. */
  private static String badId(Random rnd) {
    String uuid = uuid(rnd);
    return switch (rnd.nextInt(12)) {
      case 0 -> randomText(rnd, 1 + rnd.nextInt(40), "abcdefghijklmnopqrstuvwxyz0123456789-");
      case 1 -> unicode(rnd, 1 + rnd.nextInt(20));
      case 2 -> randomText(rnd, 1000, "0123456789abcdef-");
      case 3 -> pickOne(rnd, List.of("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "..\\..\\windows", "/", ".",
          "..", "%2e%2e%2f"));
      case 4 -> uuid.substring(0, 35);
      case 5 -> uuid + "0";
      case 6 -> "{" + uuid + "}";
      case 7 -> uuid.replace("-", "");
      case 8 -> uuid.substring(0, 35) + "g";
      case 9 -> " " + uuid;
      case 10 -> "1-1-1-1-1";
      default -> pickOne(rnd, List.of("", "null", "undefined", "0", "00000000-0000-0000-0000-0000000000000",
          "\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660-0000-0000-0000-000000000000",
          uuid.replace('-', '_'), "\uff10" + uuid.substring(1).toUpperCase())); // a fullwidth digit
    };
  }

  /** Ids that are not canonical UUIDs, as URL path segments (percent-encoded where a client would encode). */
  private static String badIdInUrl(Random rnd) {
    String uuid = uuid(rnd);
    return switch (rnd.nextInt(10)) {
      // (not "." or "..": those are path segments every server resolves, /functions/. is /functions)
      case 0 -> "x" + randomText(rnd, rnd.nextInt(40), "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-._~");
      case 1 -> URLEncoder.encode(unicode(rnd, 1 + rnd.nextInt(20)), StandardCharsets.UTF_8).replace("+", "%20");
      case 2 -> randomText(rnd, 1000, "0123456789abcdef-");
      case 3 -> pickOne(rnd, List.of("..%2F..%2Fetc%2Fpasswd", "..%2F..", "%2e%2e%2f%2e%2e%2fetc", "..%5C..%5C",
          "%252e%252e%252f", "..%2F" + pickOne(rnd, tasks), "%2F", "..;%2F..", "%2e%2e%2F" + pickOne(rnd, functions)));
      case 4 -> uuid.substring(0, 35);
      case 5 -> uuid + pickOne(rnd, List.of("0", "%00", "%20", "%0A", ".json", ";x", "%2F"));
      case 6 -> pickOne(rnd, List.of("%ZZ", "%", "%2", "%u0041", "%C0%AF", "%FF%FE", "%E2%82"));
      case 7 -> "%7B" + uuid + "%7D";
      case 8 -> "1-1-1-1-1";
      default -> pickOne(rnd, List.of("null", "undefined", "0", uuid.replace("-", ""), uuid.replace('-', '_'),
          "%20" + uuid, "%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0-0000-0000-0000-000000000000"));
    };
  }

  /** A random version-4 UUID from the seeded generator, so that a seed reproduces every case exactly. */
  private static String uuid(Random rnd) {
    long most = (rnd.nextLong() & ~0xF000L) | 0x4000L;
    long least = (rnd.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(most, least).toString();
  }

  private static String unicode(Random rnd, int length) {
    int[] ranges = {0x00e0, 0x0400, 0x0600, 0x0900, 0x4e00, 0x3040, 0x1f600, 0x200b, 0xfe00, 0x0300};
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < length; i++) {
      out.appendCodePoint(ranges[rnd.nextInt(ranges.length)] + rnd.nextInt(32));
    }
    return out.toString();
  }

  private static String randomText(Random rnd, int length, String alphabet) {
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  /** A body the route would accept (the cases then break one thing in it). */
  private static JsonObject validBody(Route route, Random rnd) {
    return switch (route) {
      case REGISTER -> new JsonObject().put("name", "fuzz-" + rnd.nextInt(1000)).put("payload", fnPayload);
      case EXECUTE -> new JsonObject().put("function_id", pickOne(rnd, functions)).put("payload", argsPayload);
      case BATCH -> {
        JsonArray list = new JsonArray();
        for (int i = 1 + rnd.nextInt(5); i > 0; i--) {
          list.add(argsPayload);
        }
        yield new JsonObject().put("function_id", pickOne(rnd, functions)).put("payloads", list);
      }
      case RESULTS -> {
        JsonArray ids = new JsonArray();
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
          ids.add(pickOne(rnd, tasks));
        }
        yield new JsonObject().put("task_ids", ids);
      }
      default -> new JsonObject().put("name", "f").put("payload", fnPayload);
    };
  }

  private static Route pathRoute(String path) {
    if (path.startsWith("/register_function")) {
      return Route.REGISTER;
    } else if (path.startsWith("/execute_function/batch")) {
      return Route.BATCH;
    } else if (path.startsWith("/execute_function")) {
      return Route.EXECUTE;
    } else if (path.startsWith("/results")) {
      return Route.RESULTS;
    }
    return Route.STATUS;
  }

  // ---------------------------------------------------------------- HTTP and Redis helpers

  private static Reply send(Case c) {
    return send(c.method(), c.uri(), c.contentType(), c.body(), c.chunked());
  }

  private static Future<Reply> sendAsync(Case c) {
    return sendAsync(c.method(), c.uri(), c.contentType(), c.body(), c.chunked());
  }

  private static Reply send(HttpMethod method, String uri, String contentType, byte[] body, boolean chunked) {
    return await(sendAsync(method, uri, contentType, body, chunked));
  }

  /** Sends a request; the future fails if no complete answer came within the limit (plus slack). */
  private static Future<Reply> sendAsync(HttpMethod method, String uri, String contentType, byte[] body,
      boolean chunked) {
    long started = System.nanoTime();
    RequestOptions options = new RequestOptions().setMethod(method).setURI(uri).setIdleTimeout(ANSWER_MILLIS + 1000);
    if (contentType != null) {
      options.putHeader("content-type", contentType);
    }
    Future<Reply> reply = http.request(options).compose(request -> {
      Future<io.vertx.core.http.HttpClientResponse> response;
      if (body == null) {
        response = request.send();
      } else if (chunked) {
        request.setChunked(true);
        int half = body.length / 2;
        request.write(Buffer.buffer(java.util.Arrays.copyOfRange(body, 0, half)));
        response = request.send(Buffer.buffer(java.util.Arrays.copyOfRange(body, half, body.length)));
      } else {
        response = request.send(Buffer.buffer(body));
      }
      return response.compose(r -> r.body().map(b -> new Reply(r.statusCode(), r.getHeader("content-type"), b,
          (System.nanoTime() - started) / 1_000_000)));
    });
    return reply.timeout(ANSWER_MILLIS + 2000, TimeUnit.MILLISECONDS);
  }

  /** Every key and its content: hashes field by field, the queue's entries and pending count, sorted sets. */
  private static Map<String, String> snapshot() {
    Map<String, String> out = new TreeMap<>();
    for (String key : TestRedis.keys(redis, "*")) {
      String type = TestRedis.cmd(redis, Command.TYPE, key).toString();
      String content = switch (type) {
        case "hash" -> new TreeMap<>(TestRedis.hash(redis, key)).toString();
        case "stream" -> "len " + TestRedis.xlen(redis, key) + " entries " + render(TestRedis.cmd(redis,
            Command.XRANGE, key, "-", "+")) + " pending " + TestRedis.pendingCount(redis, key,
            Keys.DISPATCHERS_GROUP);
        case "zset" -> render(TestRedis.cmd(redis, Command.ZRANGE, key, 0, -1, "WITHSCORES"));
        default -> type + " " + render(TestRedis.cmd(redis, Command.DUMP, key));
      };
      out.put(key, type + ": " + content);
    }
    return out;
  }

  private static String render(Response response) {
    if (response == null) {
      return "nil";
    }
    if (response.type() != io.vertx.redis.client.ResponseType.MULTI) {
      return response.toString();
    }
    if (response.isMap()) {
      Map<String, String> map = new TreeMap<>();
      response.getKeys().forEach(k -> map.put(k, render(response.get(k))));
      return map.toString();
    }
    List<String> items = new ArrayList<>();
    response.forEach(r -> items.add(render(r)));
    return items.toString();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    Buffer out = Buffer.buffer();
    for (byte[] part : parts) {
      out.appendBytes(part);
    }
    return out.getBytes();
  }

  private static <T> T pickOne(Random rnd, List<T> options) {
    return options.get(rnd.nextInt(options.size()));
  }

  private static String abbreviate(String text) {
    String flat = text.replace("\n", "\\n");
    return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
  }
}
