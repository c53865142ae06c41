package io.mpcsfaas.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG line charts of a sweep: one line per mode, workload (and percentile), against the number of slots. */
final class Charts {
  private record Metric(String suffix, ToDoubleFunction<Sweep.Row> value) {}

  private Charts() {}

  static void write(Path dir, List<Sweep.Row> rows) throws IOException {
    System.setProperty("java.awt.headless", "true");
    save(dir.resolve("throughput.png"), "Throughput (weak scaling)", "tasks/s", rows, false,
        List.of(new Metric("", r -> r.result().tasksPerSecond())));
    save(dir.resolve("latency.png"), "Latency from submit to result", "ms (log scale)", rows, true,
        List.of(new Metric(" p50", r -> r.result().p50()), new Metric(" p99", r -> r.result().p99())));
  }

  private static void save(Path file, String title, String yLabel, List<Sweep.Row> rows, boolean logScale,
      List<Metric> metrics) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Metric metric : metrics) {
      for (Sweep.Row row : rows) {
        String key = row.mode() + " " + row.result().options().workload() + metric.suffix();
        int index = data.getSeriesIndex(key);
        XYSeries series = index >= 0 ? data.getSeries(index) : new XYSeries(key);
        if (index < 0) {
          data.addSeries(series);
        }
        series.add(row.slots(), metric.value().applyAsDouble(row));
      }
    }
    JFreeChart chart = ChartFactory.createXYLineChart(title, "interpreter slots in total", yLabel, data,
        PlotOrientation.VERTICAL, true, false, false);
    if (logScale) {
      chart.getXYPlot().setRangeAxis(new LogAxis(yLabel));
    }
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 540);
  }
}
