package io.mpcsfaas.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Lets through only requests with {@code Authorization: Bearer <key>} (or, where asked, {@code ?key=<key>}, for
 * a browser's EventSource, which cannot send headers); compares in constant time.
 */
final class BearerKeyHandler implements Handler<RoutingContext> {
  private static final String BEARER = "Bearer ";
  private final byte[] expected;
  private final boolean queryKey;

  BearerKeyHandler(String key) {
    this(key, false);
  }

  /** {@code queryKey}: the key may also come as the query parameter {@code key}. */
  BearerKeyHandler(String key, boolean queryKey) {
    this.expected = (BEARER + key).getBytes(StandardCharsets.UTF_8);
    this.queryKey = queryKey;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (matches(ctx.request().getHeader("Authorization"))
        || queryKey && ctx.queryParams().contains("key") && matches(BEARER + ctx.queryParams().get("key"))) {
      ctx.next();
    } else {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ctx.fail(new ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)"));
    }
  }

  private boolean matches(String header) {
    return header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8));
  }
}
