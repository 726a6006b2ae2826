// A basket's risk limits (max loss, target) and schedule (entry, exit), shown and editable with updateBasket.
import { useState } from "react";
import { Money } from "./BasketTables.jsx";

const EDITABLE = new Set(["DRAFT", "EXECUTING", "LIVE", "EXITING"]);

/** "50,000" or "₹ 50000.00" as the API's "50000.00"-style text; blank as null. */
function amount(text) {
  const plain = String(text || "").replace(/[₹,\s]/g, "");
  return plain === "" ? null : plain;
}

export function BasketSettings({ basket, busy, onSave }) {
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState(null);
  const editable = EDITABLE.has(basket.status);
  const risk = basket.risk || {};
  const schedule = basket.schedule || {};

  function start() {
    setForm({
      maxLoss: risk.maxLoss || "",
      target: risk.target || "",
      entryAt: schedule.entryAt || "",
      exitAt: schedule.exitAt || "",
    });
    setEditing(true);
  }

  async function save(event) {
    event.preventDefault();
    const input = { id: basket.id, expectedVersion: basket.version };
    const nextRisk = { maxLoss: amount(form.maxLoss), target: amount(form.target) };
    if (nextRisk.maxLoss !== (risk.maxLoss || null) || nextRisk.target !== (risk.target || null)) input.risk = nextRisk;
    const nextSchedule = { entryAt: form.entryAt || null, exitAt: form.exitAt || null };
    if (nextSchedule.entryAt !== (schedule.entryAt || null) || nextSchedule.exitAt !== (schedule.exitAt || null)) {
      input.schedule = nextSchedule;
    }
    if (!input.risk && !input.schedule) {
      setEditing(false);
      return;
    }
    if (await onSave(input)) setEditing(false);
  }

  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });

  if (!editing) {
    return (
      <div className="settings" data-testid="basket-settings">
        <span>
          <span className="muted small">Max loss </span>
          <span data-testid="risk-max-loss">{risk.maxLoss ? <Money value={risk.maxLoss} /> : "not set"}</span>
        </span>
        <span>
          <span className="muted small">Target </span>
          <span data-testid="risk-target">{risk.target ? <Money value={risk.target} /> : "not set"}</span>
        </span>
        <span>
          <span className="muted small">Entry </span>
          <span data-testid="schedule-entry">{schedule.entryAt ? `${schedule.entryAt} IST` : "not scheduled"}</span>
        </span>
        <span>
          <span className="muted small">Exit </span>
          <span data-testid="schedule-exit">{schedule.exitAt ? `${schedule.exitAt} IST` : "not scheduled"}</span>
        </span>
        {editable && (
          <button type="button" className="secondary" data-testid="edit-settings" onClick={start} disabled={busy}>
            Edit limits &amp; schedule
          </button>
        )}
      </div>
    );
  }
  return (
    <form className="settings editing" data-testid="settings-form" onSubmit={save}>
      <label>
        Max loss (₹)
        <input name="maxLoss" inputMode="decimal" placeholder="e.g. 5000" value={form.maxLoss} onChange={set("maxLoss")} />
      </label>
      <label>
        Target (₹)
        <input name="target" inputMode="decimal" placeholder="e.g. 2500" value={form.target} onChange={set("target")} />
      </label>
      <label>
        Entry (IST)
        <input name="entryAt" type="time" value={form.entryAt} onChange={set("entryAt")} />
      </label>
      <label>
        Exit (IST)
        <input name="exitAt" type="time" value={form.exitAt} onChange={set("exitAt")} />
      </label>
      <button type="submit" data-testid="save-settings" disabled={busy}>
        Save
      </button>
      <button type="button" className="secondary" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <p className="muted small hint">
        A LIVE basket is exited once when its P&amp;L falls to −max loss or rises to the target. Times are HH:MM IST within
        the session (NFO 09:15–15:30); blank clears.
      </p>
    </form>
  );
}
