import { useEffect, useRef } from "react";
import {
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Filler, Tooltip);

function timeLabel(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? String(iso) : at.toLocaleTimeString("en-IN", { hour12: false });
}

/** A line of basket P&L over time; `points` are {asOf, pnl} with pnl a decimal string (plotted, never summed). */
export function PnlChart({ points }) {
  const canvas = useRef(null);
  const chart = useRef(null);

  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: { labels: [], datasets: [{ label: "P&L (₹)", data: [], borderColor: "#2563eb", pointRadius: 0, tension: 0.2, fill: false }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { ticks: { callback: (v) => `₹${v}` } } },
        plugins: { legend: { display: false } },
      },
    });
    return () => chart.current.destroy();
  }, []);

  useEffect(() => {
    const current = chart.current;
    if (!current) return;
    current.data.labels = points.map((p) => timeLabel(p.asOf));
    current.data.datasets[0].data = points.map((p) => Number(p.pnl));
    const last = points.length ? Number(points[points.length - 1].pnl) : 0;
    current.data.datasets[0].borderColor = last < 0 ? "#dc2626" : "#16a34a";
    current.update("none");
  }, [points]);

  return (
    <div className="chart" data-testid="pnl-chart" data-points={points.length}>
      <canvas ref={canvas} aria-label="P&L over time" role="img" />
    </div>
  );
}
