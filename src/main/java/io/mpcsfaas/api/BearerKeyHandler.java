package io.mpcsfaas.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Lets through only requests with {@code Authorization: Bearer <key>}; compares in constant time. */
final class BearerKeyHandler implements Handler<RoutingContext> {
  private final byte[] expected;

  BearerKeyHandler(String key) {
    this.expected = ("Bearer " + key).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
      ctx.next();
    } else {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ctx.fail(new ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)"));
    }
  }
}
