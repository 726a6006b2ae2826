// The trade book a page holds: fills loaded from `fills` plus those onFill delivers, each once.

const time = (fill) => {
  const at = Date.parse(fill.filledAt);
  return Number.isFinite(at) ? at : 0;
};

/** `current` and `incoming` fills merged by tradeId (a replayed or already loaded one is kept once), newest first. */
export function mergeFills(current, incoming) {
  const byId = new Map((current || []).map((f) => [f.tradeId, f]));
  incoming.forEach((f) => byId.set(f.tradeId, { ...byId.get(f.tradeId), ...f }));
  return [...byId.values()].sort((a, b) => time(b) - time(a) || String(b.tradeId).localeCompare(String(a.tradeId)));
}
