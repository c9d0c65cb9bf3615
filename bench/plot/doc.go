// Package plot draws the charts of cairn bench as SVG, with no dependency:
// a small writer (SVG) that escapes every text and attribute it is given,
// and two charts on top of it, a line chart (throughput over time,
// throughput against latency) and a grouped bar chart (latency
// percentiles per target).
//
// # Shape
//
// A chart is a value (LineChart, BarChart) that Render turns into a
// complete, standalone SVG document of fixed size (Width x Height pixels),
// viewable in any browser and convertible with rsvg-convert or
// ImageMagick. Axes are linear or logarithmic (base 10); ticks fall on
// 1, 2 and 5 times powers of ten, so that a reader can read values off
// the grid. Latencies span decades between p50 and max, so bar charts of
// them are drawn on a log axis, with each bar's value written above it.
//
// # Bounds
//
// Charts hold at most MaxSeries series and MaxPoints points per series;
// Render refuses more (an unreadable chart is a bug in the caller). Values
// that a log axis cannot show (zero, negative, NaN, infinite) are left
// out of lines and drawn as empty bars.
package plot
