// The P&L chart's scales: the y-range always holds zero and at least a floor span, so a small swing stays small.

export const FLOOR_SPAN = 1000; // rupees: a ₹60 move is 6% of the chart's height, not all of it

/**
 * The y-range for P&L `values` (numbers, rupees): it includes 0 and every value, spans at least `floor`, with a
 * little headroom; a range that must grow grows away from zero on the side the values are on.
 */
export function pnlRange(values, floor = FLOOR_SPAN) {
  const finite = values.filter((v) => Number.isFinite(v));
  let min = Math.min(0, ...finite);
  let max = Math.max(0, ...finite);
  const pad = (max - min) * 0.08;
  if (max > 0) max += pad;
  if (min < 0) min -= pad;
  const short = floor - (max - min);
  if (short > 0) {
    if (min === 0 && max === 0) {
      min = -floor / 2;
      max = floor / 2;
    } else {
      // share the shortfall in proportion to where the values are, keeping zero inside
      const below = -min / (max - min);
      min -= short * below;
      max += short * (1 - below);
    }
  }
  return { min, max };
}

/** Points for the chart from the basket's history: ₹0 up to its first fill (it held nothing), then each P&L it is known to have had. */
export function pnlHistory(fills, events) {
  const times = fills.map((f) => Date.parse(f.filledAt)).filter((t) => Number.isFinite(t));
  const points = [];
  if (times.length) points.push({ at: Math.min(...times), pnl: "0.00", source: "first fill" });
  events
    .map((e) => ({ at: Date.parse(e.asOf), pnl: e.pnl, source: e.source || "live" }))
    .filter((p) => Number.isFinite(p.at))
    .forEach((p) => points.push(p));
  points.sort((a, b) => a.at - b.at);
  return points;
}
