package io.mpcsfaas.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class ApiConfigTest {

  @Test
  void theBodyLimitIs128MibByDefaultAndUpTo512Mib() {
    assertEquals(128L << 20, ApiConfig.from(new JsonObject()).bodyLimit());
    assertEquals(512L << 20, ApiConfig.from(new JsonObject().put("api.body_limit", 512L << 20)).bodyLimit());
  }

  @Test
  void aBodyLimitOutOfRangeIsRefusedNamingTheFlag() {
    for (long limit : new long[] {0, -1, ApiConfig.MAX_BODY_LIMIT + 1}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ApiConfig.from(new JsonObject().put("api.body_limit", limit)));
      assertTrue(e.getMessage().contains("--body-limit"), e.getMessage());
    }
  }
}
