package io.mpcsfaas.transport;

import java.util.Set;

/** A dispatcher's CURVE: its Z85 secret key, and the Z85 public keys of the workers it accepts. */
public record CurveServer(String secretKey, Set<String> authorizedKeys) {}
