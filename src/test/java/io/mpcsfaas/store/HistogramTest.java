package io.mpcsfaas.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading a histogram from hash fields, the difference of two reads, and its quantiles. */
class HistogramTest {

  @Test
  void readsItsOwnFieldsOnly() {
    Histogram h = Histogram.of(Map.of("run:0.1", 2.0, "run:1", 3.0, "run:+Inf", 1.0, "run:sum", 4.5,
        "run:count", 6.0, "latency:0.1", 9.0, "calls", 7.0), "run");
    assertEquals(6, h.count());
    assertEquals(4.5, h.sum());
    assertEquals(0.75, h.mean());
    assertEquals(Double.POSITIVE_INFINITY, h.buckets().lastKey());
  }

  @Test
  void quantilesInterpolateInsideTheirBucket() {
    Histogram h = Histogram.of(Map.of("l:0.1", 50.0, "l:1", 50.0), "l");
    assertEquals(0.1, h.quantile(0.5), 1e-9, "the median is the first bucket's upper bound");
    assertEquals(0.1 + 0.9 * 49 / 50, h.quantile(0.99), 1e-9, "rank 99 is the 49th of the 50 in (0.1, 1]");
    assertEquals(0.05, h.quantile(0.25), 1e-9, "the first bucket starts at 0");
  }

  @Test
  void theUnboundedBucketAnswersItsLowerBound() {
    Histogram h = Histogram.of(Map.of("l:1", 1.0, "l:+Inf", 99.0), "l");
    assertEquals(1.0, h.quantile(0.99));
  }

  @Test
  void theDifferenceOfTwoReadsHoldsWhatHappenedBetween() {
    Histogram before = Histogram.of(Map.of("l:0.1", 100.0, "l:sum", 5.0), "l");
    Histogram after = Histogram.of(Map.of("l:0.1", 100.0, "l:10", 4.0, "l:sum", 25.0), "l");
    Histogram between = after.minus(before);
    assertEquals(4, between.count());
    assertEquals(5.0, between.mean());
    assertEquals(0.1 + 9.9 * 2 / 4, between.quantile(0.5), 1e-9, "none of the earlier fast ones count");
  }

  @Test
  void anEmptyHistogramHasNoQuantileNorMean() {
    Histogram h = Histogram.of(Map.of(), "l");
    assertNull(h.quantile(0.5));
    assertNull(h.mean());
  }
}
