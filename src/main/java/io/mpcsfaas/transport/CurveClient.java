package io.mpcsfaas.transport;

/** A worker's CURVE, Z85 keys: its own pair, and the public key of the dispatcher it connects to. */
public record CurveClient(String publicKey, String secretKey, String serverKey) {}
