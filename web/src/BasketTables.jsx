// A basket's orders, positions (grouped by strategy) and trade book, with amounts, lots and times as a trader reads them.
import { Fragment } from "react";
import { formatDateTimeIst, formatLots, formatPrice, formatRupees, isNegative, paiseToDecimal, sumPaise } from "./format.js";

/** An amount in rupees; red when below zero (green when `tone` and above). */
export function Money({ value, tone = false, signed = false, testId }) {
  const negative = isNegative(value);
  const toned = tone && value !== null && value !== undefined ? (negative ? "loss" : "profit") : negative ? "loss" : "";
  return (
    <span className={`money ${toned}`} data-testid={testId}>
      {formatRupees(value, { signed })}
    </span>
  );
}

const key = (exchange, tradingsymbol) => `${exchange}:${tradingsymbol}`;

function orderPrice(order) {
  if (order.orderType === "MARKET") return "MARKET";
  const parts = [order.orderType];
  if (order.price) parts.push(`@ ${formatPrice(order.price)}`);
  if (order.triggerPrice) parts.push(`trg ${formatPrice(order.triggerPrice)}`);
  return parts.join(" ");
}

export function OrdersTable({ orders, lots, strategyNames }) {
  if (!orders.length) return <p className="muted">No orders yet.</p>;
  const sorted = [...orders].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  return (
    <div className="scroll">
      <table data-testid="orders">
        <thead>
          <tr>
            <th>Time (IST)</th>
            <th>Strategy</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Product</th>
            <th>Type</th>
            <th className="num">Qty</th>
            <th className="num">Filled</th>
            <th className="num">Avg price</th>
            <th>Status</th>
            <th>Broker order id</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((o) => {
            const lot = lots[key(o.exchange, o.tradingsymbol)];
            return (
              <Fragment key={o.id}>
                <tr data-testid="order" data-status={o.status}>
                  <td data-testid="order-time" title={o.updatedAt ? `updated ${formatDateTimeIst(o.updatedAt)} IST` : undefined}>
                    {formatDateTimeIst(o.createdAt)}
                  </td>
                  <td className="muted">{strategyNames[o.strategyId] || "manual"}</td>
                  <td>{o.tradingsymbol}</td>
                  <td className={o.side === "BUY" ? "buy" : "sell"}>{o.side}</td>
                  <td data-testid="order-product">{o.product}</td>
                  <td data-testid="order-type">{orderPrice(o)}</td>
                  <td className="num" data-testid="order-quantity">{formatLots(o.quantity, lot)}</td>
                  <td className="num">{o.filledQuantity}</td>
                  <td className="num">{o.averagePrice ? <Money value={o.averagePrice} /> : "—"}</td>
                  <td>
                    <span className={`status status-${o.status}`}>{o.status}</span>
                  </td>
                  <td className="mono small" data-testid="broker-order-id">
                    {o.brokerOrderId || "—"}
                  </td>
                </tr>
                {o.statusMessage && (
                  <tr className="order-message">
                    <td colSpan={11} className="status-message" data-testid="order-status-message">
                      {o.side} {o.tradingsymbol}: {o.statusMessage}
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Positions under the strategy each belongs to, with the strategy's P&L: the exact sum of its rows' P&L. */
export function StrategyPositions({ basket, marks, lots }) {
  if (!basket.positions.length) return <p className="muted">No positions yet.</p>;
  const groups = basket.strategies.map((s) => ({ id: s.id, name: s.name, positions: [] }));
  const byId = Object.fromEntries(groups.map((g) => [g.id, g]));
  basket.positions.forEach((p) => {
    let group = byId[p.strategyId];
    if (!group) {
      group = byId[""] || { id: "", name: "Orders outside a strategy", positions: [] };
      if (!byId[""]) {
        byId[""] = group;
        groups.push(group);
      }
    }
    group.positions.push(p);
  });
  return (
    <div className="scroll">
      <table data-testid="positions">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Product</th>
            <th className="num">Net qty</th>
            <th className="num">Buy value</th>
            <th className="num">Sell value</th>
            <th className="num">LTP</th>
            <th className="num">P&amp;L</th>
          </tr>
        </thead>
        {groups
          .filter((g) => g.positions.length)
          .map((group) => {
            const rows = group.positions.map((p) => ({ p, mark: marks[`${p.strategyId}:${p.tradingsymbol}`] }));
            const complete = rows.every((r) => r.mark);
            const total = complete ? paiseToDecimal(sumPaise(rows.map((r) => r.mark.pnl))) : null;
            return (
              <tbody key={group.id} data-testid="strategy-group" data-strategy-name={group.name}>
                <tr className="group">
                  <th colSpan={6} data-testid="strategy-name">
                    {group.name}
                  </th>
                  <td className="num">
                    <Money value={total} tone testId="strategy-pnl" />
                  </td>
                </tr>
                {rows.map(({ p, mark }) => (
                  <tr key={`${p.strategyId}:${p.tradingsymbol}`} data-testid="position">
                    <td>{p.tradingsymbol}</td>
                    <td>{p.product}</td>
                    <td className="num" data-testid="position-quantity">
                      {formatLots(p.netQuantity, lots[key(p.exchange, p.tradingsymbol)])}
                    </td>
                    <td className="num">
                      <Money value={p.buyValue} testId="position-buy-value" />
                    </td>
                    <td className="num">
                      <Money value={p.sellValue} />
                    </td>
                    <td className="num">{mark && mark.lastPrice ? formatPrice(mark.lastPrice) : "—"}</td>
                    <td className="num">
                      <Money value={mark ? mark.pnl : null} tone testId="position-pnl" />
                    </td>
                  </tr>
                ))}
              </tbody>
            );
          })}
      </table>
    </div>
  );
}

/** The basket's fills, newest first: loaded from `fills` and kept current by onFill. */
export function TradeBook({ book, lots }) {
  if (book && book.failed && !book.items.length) {
    return (
      <p className="muted" data-testid="fills-failed">
        Could not load the trade book; it reloads with the basket.
      </p>
    );
  }
  if (!book || (!book.loaded && !book.items.length)) {
    return (
      <p className="muted" data-testid="fills-loading">
        Loading trade book…
      </p>
    );
  }
  if (!book.items.length) return <p className="muted" data-testid="fills-empty">No fills yet.</p>;
  return (
    <div className="scroll fills">
      <table data-testid="fills">
        <thead>
          <tr>
            <th>Time (IST)</th>
            <th>Side</th>
            <th>Symbol</th>
            <th className="num">Qty</th>
            <th className="num">Price</th>
            <th>Trade id</th>
          </tr>
        </thead>
        <tbody>
          {book.items.map((f) => (
            <tr key={f.tradeId} data-testid="fill" data-trade-id={f.tradeId}>
              <td>{formatDateTimeIst(f.filledAt)}</td>
              <td className={f.side === "BUY" ? "buy" : "sell"}>{f.side}</td>
              <td>{f.tradingsymbol}</td>
              <td className="num">{formatLots(f.quantity, lots[key(f.exchange, f.tradingsymbol)])}</td>
              <td className="num">
                <Money value={f.price} />
              </td>
              <td className="mono small">{f.tradeId}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Each watched leg's managed exit: its active stop-loss and target, the trailing peak, distances and re-entries. */
export function LegRiskTable({ legs }) {
  const price = (value) => (value === null || value === undefined ? "—" : formatPrice(value));
  return (
    <div className="scroll">
      <table data-testid="leg-risks">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th className="num">Entry</th>
            <th className="num">Stop-loss</th>
            <th className="num">Target</th>
            <th className="num">Peak</th>
            <th className="num">To stop</th>
            <th className="num">To target</th>
            <th>Triggered</th>
            <th className="num">Re-entries</th>
          </tr>
        </thead>
        <tbody>
          {legs.map((leg) => (
            <tr key={leg.legId} data-testid="leg-risk" data-leg-id={leg.legId}>
              <td>{leg.tradingsymbol}</td>
              <td className={leg.side === "BUY" ? "buy" : "sell"}>{leg.side}</td>
              <td className="num">{price(leg.entry)}</td>
              <td className="num" data-testid="leg-stop-loss">
                {price(leg.stopLoss)}
                {leg.movedToCost ? " (cost)" : ""}
              </td>
              <td className="num" data-testid="leg-target">{price(leg.target)}</td>
              <td className="num" data-testid="leg-peak">{price(leg.trailingPeak)}</td>
              <td className="num">{price(leg.distanceToStopLoss)}</td>
              <td className="num">{price(leg.distanceToTarget)}</td>
              <td data-testid="leg-triggered">{leg.triggered ? `${leg.triggered} at ${price(leg.triggeredAt)}` : "—"}</td>
              <td className="num">
                {leg.reEntriesUsed} used, {leg.reEntriesLeft} left
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
