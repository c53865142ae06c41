package io.mpcsfaas.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Where a webjar on the classpath keeps its files, found from the version in its Maven properties. */
final class Webjars {
  private Webjars() {}

  /** {@code META-INF/resources/webjars/<artifact>/<version>}, for a StaticHandler. */
  static String root(String groupId, String artifactId) {
    Properties properties = new Properties();
    String path = "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
    try (InputStream in = Webjars.class.getResourceAsStream(path)) {
      properties.load(in);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("the " + artifactId + " webjar is missing from the classpath", e);
    }
    return "META-INF/resources/webjars/" + artifactId + "/" + properties.getProperty("version");
  }
}
