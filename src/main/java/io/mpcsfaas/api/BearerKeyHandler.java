package io.mpcsfaas.api;

import io.mpcsfaas.store.Tenant;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Lets through only requests with {@code Authorization: Bearer <key>} (or, where asked, {@code ?key=<key>}, for
 * a browser's EventSource, which cannot send headers) of a key the {@link KeyRing} holds, and records the
 * tenant it stands for ({@link #caller}); 401 otherwise.
 */
final class BearerKeyHandler implements Handler<RoutingContext> {
  private static final String BEARER = "Bearer ";
  private static final String TENANT = "tenant";
  private final KeyRing ring;
  private final boolean queryKey;

  /** {@code queryKey}: the key may also come as the query parameter {@code key}. */
  BearerKeyHandler(KeyRing ring, boolean queryKey) {
    this.ring = ring;
    this.queryKey = queryKey;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Tenant tenant = tenant(ctx.request().getHeader("Authorization"));
    if (tenant == null && queryKey && ctx.queryParams().contains("key")) {
      tenant = ring.tenant(ctx.queryParams().get("key"));
    }
    if (tenant != null) {
      ctx.put(TENANT, tenant);
      ctx.next();
    } else {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ctx.fail(new ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)"));
    }
  }

  private Tenant tenant(String header) {
    return header != null && header.startsWith(BEARER) ? ring.tenant(header.substring(BEARER.length())) : null;
  }

  /** Who makes the request: the tenant of its key, or {@link Tenant#NONE} when the API requires no key. */
  static Tenant caller(RoutingContext ctx) {
    Tenant tenant = ctx.get(TENANT);
    return tenant == null ? Tenant.NONE : tenant;
  }
}
