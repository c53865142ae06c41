package io.mpcsfaas.api;

/**
 * What of one stream's kept tail a follower has not written yet. The platform keeps only the last KiB of a
 * task's output, so once that tail slides, what was appended is found by where the end of the text already
 * written lies in the new tail; when it is no longer there (more was printed meanwhile than is kept), the
 * follower writes {@link #TRUNCATED} and the whole tail.
 */
final class OutputCursor {
  static final String TRUNCATED = "[... output truncated ...]\n";
  /** How much of the end of the written text locates it in the new tail. */
  private static final int PROBE = 256;

  private String written = "";

  /** The text of {@code tail} not yet written; from now on, {@code tail} counts as written. */
  String next(String tail) {
    String previous = written;
    written = tail;
    if (tail.startsWith(previous)) {
      return tail.substring(previous.length());
    }
    String probe = previous.substring(Math.max(0, previous.length() - PROBE));
    int at = tail.lastIndexOf(probe);
    return at >= 0 ? tail.substring(at + probe.length()) : TRUNCATED + tail;
  }
}
