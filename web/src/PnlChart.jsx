import { useEffect, useRef } from "react";
import { Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { formatDateTimeIst, formatRupees } from "./format.js";
import { pnlRange } from "./pnlAxis.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

// Draws P&L = ₹0 across the plot, under the line, whatever ticks the scale chose.
const zeroLine = {
  id: "zeroLine",
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    const y = scales.y.getPixelForValue(0);
    if (y < chartArea.top || y > chartArea.bottom) return;
    ctx.save();
    ctx.strokeStyle = "#374151";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(chartArea.left, y);
    ctx.lineTo(chartArea.right, y);
    ctx.stroke();
    ctx.restore();
  },
};

// Axis labels only: the figures shown to a trader come from the API's strings, never from these floats.
const axisRupees = (value) => formatRupees(Number(value).toFixed(2)).replace(/\.00$/, "");

/**
 * Basket P&L over time. `points` are {at: ms, pnl: decimal string, source}; pnl is parsed only to be plotted.
 * The y-range always holds ₹0 and at least a floor span (pnlAxis.js), so a small swing looks small.
 */
export function PnlChart({ points }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  const box = useRef(null);

  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: {
        datasets: [{ label: "P&L", data: [], borderColor: "#2563eb", pointRadius: 0, pointHitRadius: 6, tension: 0, fill: false }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: "linear", ticks: { maxTicksLimit: 6, callback: (v) => formatDateTimeIst(new Date(v).toISOString()) } },
          y: { ticks: { maxTicksLimit: 7, callback: axisRupees } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? `${formatDateTimeIst(new Date(items[0].parsed.x).toISOString())} IST` : ""),
              label: (item) => `${formatRupees(item.raw.pnl)} (${item.raw.source === "first fill" ? "no position before the first fill" : item.raw.source})`,
            },
          },
        },
      },
      plugins: [zeroLine],
    });
    return () => chart.current.destroy();
  }, []);

  useEffect(() => {
    const current = chart.current;
    if (!current) return;
    const data = points.map((p) => ({ x: p.at, y: Number(p.pnl), pnl: p.pnl, source: p.source }));
    const range = pnlRange(data.map((d) => d.y));
    current.data.datasets[0].data = data;
    current.data.datasets[0].pointRadius = data.length === 1 ? 3 : 0;
    const last = data.length ? data[data.length - 1].y : 0;
    current.data.datasets[0].borderColor = last < 0 ? "#dc2626" : "#16a34a";
    current.options.scales.y.suggestedMin = range.min;
    current.options.scales.y.suggestedMax = range.max;
    if (data.length === 1) {
      current.options.scales.x.min = data[0].x - 60000;
      current.options.scales.x.max = data[0].x + 60000;
    } else {
      delete current.options.scales.x.min;
      delete current.options.scales.x.max;
    }
    current.update("none");
    const y = current.scales.y;
    box.current.dataset.yMin = String(y.min);
    box.current.dataset.yMax = String(y.max);
  }, [points]);

  return (
    <div className="chart" ref={box} data-testid="pnl-chart" data-points={points.length}>
      <canvas ref={canvas} aria-label="Basket P&L over time" role="img" />
    </div>
  );
}
