package io.mpcsfaas.store;

import java.util.regex.Pattern;

/**
 * Who calls: the tenant that owns what it registers and submits ({@code name}, empty for none, as with a single
 * {@code --api-key} or no key at all), whether it sees every tenant's functions and tasks ({@code admin}), and
 * how many of its tasks may be queued or running at once ({@code maxInFlight}, 0: no limit).
 */
public record Tenant(String name, boolean admin, int maxInFlight) {
  /** Tenant names become part of Redis keys: no separator, nothing to escape. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  /** The caller when the API has no keys, or with the single {@code --api-key}: owns nothing, sees everything. */
  public static final Tenant NONE = new Tenant("", true, 0);

  public Tenant {
    if (!name.isEmpty() && !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("tenant name '" + name + "' must match " + NAME.pattern());
    }
    if (maxInFlight < 0) {
      throw new IllegalArgumentException("max_in_flight must be 0 or more");
    }
  }

  /** The tenant whose functions and tasks alone the scripts let it touch; '' for an admin (any). */
  String scope() {
    return admin ? "" : name;
  }

  /** Whether a function or task owned by {@code owner} (null: by no tenant) is visible to this caller. */
  public boolean sees(String owner) {
    return admin || name.equals(owner);
  }
}
