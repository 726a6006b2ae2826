import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, GraphQLClient, describeError } from "./api.js";
import { createAuth } from "./auth.js";
import { BasketSettings } from "./BasketSettings.jsx";
import { LegRiskTable, Money, OrdersTable, StrategyPositions, TradeBook } from "./BasketTables.jsx";
import { formatDateTimeIst, formatLots, formatRupees, formatTimeIst } from "./format.js";
import { PnlChart } from "./PnlChart.jsx";
import { pnlHistory } from "./pnlAxis.js";
import { AppSyncRealtimeClient, realtimeEndpoint } from "./realtime.js";
import { TEMPLATES } from "./templates.js";
import { mergeFills } from "./tradeBook.js";
import * as ops from "./operations.js";
import "./styles.css";

const SESSION_KEY = "basketgraph:session";
const MAX_POINTS = 600;
const REFRESH_BEFORE_MS = 120000; // renew a session two minutes before its token expires
const TERMINAL = new Set(["COMPLETE", "CANCELLED", "REJECTED"]);

function loadSession() {
  try {
    return JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

function saveSession(session) {
  if (session) window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else window.sessionStorage.removeItem(SESSION_KEY);
}

function requestId() {
  return window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

function Alerts({ alerts, dismiss }) {
  return (
    <div className="alerts" aria-live="polite">
      {alerts.map((alert) => (
        <div key={alert.id} className={`alert alert-${alert.kind}`} role="alert" data-testid={alert.kind === "error" ? "error" : "notice"}>
          <strong>{alert.title}</strong> {alert.message}
          <button type="button" className="link" onClick={() => dismiss(alert.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function SignIn({ auth, busy, onSignIn }) {
  const [username, setUsername] = useState(auth.needsPassword ? "" : "demo");
  const [password, setPassword] = useState("");
  return (
    <form
      className="card signin"
      onSubmit={(event) => {
        event.preventDefault();
        onSignIn({ username: username.trim(), password });
      }}
    >
      <h2>Sign in</h2>
      <p className="muted">
        {auth.kind === "local"
          ? "Local stack: any user name signs in (and gets a paper broker account). The demo user is ready."
          : "Your Cognito user pool account."}
      </p>
      <label>
        User name
        <input data-testid="signin-username" value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      {auth.needsPassword && (
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
      )}
      <button type="submit" data-testid="signin-submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

function PlaceOrder({ basket, lots, onPlace, busy }) {
  const symbols = useMemo(() => {
    const seen = new Set();
    basket.strategies.forEach((s) => s.legs.forEach((l) => seen.add(`${l.exchange}:${l.tradingsymbol}`)));
    return [...seen];
  }, [basket]);
  const [form, setForm] = useState({ instrument: symbols[0] || "", side: "BUY", quantity: "", orderType: "MARKET", price: "", triggerPrice: "" });
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const lot = lots[form.instrument];
  const typed = Number.parseInt(form.quantity, 10);
  let hint = lot ? `Lot size ${lot}: quantity in units, a multiple of ${lot} (1 lot = ${lot}, 2 lots = ${2 * lot}).` : "Lot size: loading…";
  if (lot && Number.isInteger(typed) && typed > 0) {
    hint = typed % lot === 0 ? `${formatLots(typed, lot)}.` : `${typed} is not a multiple of the lot size ${lot}.`;
  }
  return (
    <form
      className="place-order"
      data-testid="place-order"
      onSubmit={(event) => {
        event.preventDefault();
        onPlace(form);
      }}
    >
      <select aria-label="Instrument" name="instrument" value={form.instrument} onChange={set("instrument")}>
        {symbols.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
      <select aria-label="Side" name="side" value={form.side} onChange={set("side")}>
        <option>BUY</option>
        <option>SELL</option>
      </select>
      <input
        aria-label="Quantity"
        name="quantity"
        placeholder={lot ? `qty (lot ${lot})` : "quantity"}
        value={form.quantity}
        onChange={set("quantity")}
        required
      />
      <select aria-label="Order type" name="orderType" value={form.orderType} onChange={set("orderType")}>
        <option>MARKET</option>
        <option>LIMIT</option>
        <option>SL</option>
        <option>SL_M</option>
      </select>
      <input aria-label="Price" name="price" placeholder="price" value={form.price} onChange={set("price")} />
      <input aria-label="Trigger price" name="triggerPrice" placeholder="trigger" value={form.triggerPrice} onChange={set("triggerPrice")} />
      <button type="submit" disabled={busy} data-testid="place-order-submit">
        Place order
      </button>
      <span className="muted small hint" data-testid="lot-hint">
        {hint}
      </span>
    </form>
  );
}

function hashBasket() {
  const match = /(?:^#|&)basket=([^&]+)/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function symbolsOf(basket) {
  const seen = new Map();
  const add = (x) => seen.set(`${x.exchange}:${x.tradingsymbol}`, { exchange: x.exchange, tradingsymbol: x.tradingsymbol });
  basket.strategies.forEach((s) => s.legs.forEach(add));
  basket.orders.forEach(add);
  basket.positions.forEach(add);
  return [...seen.entries()];
}

const MAX_LIST_PNL = 20;
const MAX_FILL_PAGES = 20;

function Dashboard({ config, session, onUnauthorized, alert }) {
  // The token changes when the session is renewed; requests and reconnects always use the latest.
  const token = useRef(session.token);
  token.current = session.token;
  const api = useMemo(
    () => new GraphQLClient({ url: new URL(config.graphqlUrl, window.location.href).href, authorization: () => token.current }),
    [config],
  );
  const [baskets, setBaskets] = useState({ state: "loading", items: [] });
  const [selectedId, setSelectedId] = useState(hashBasket);
  const [basket, setBasket] = useState(null);
  const [marks, setMarks] = useState({});
  const [risk, setRisk] = useState({});
  const [pnl, setPnl] = useState({});
  const [listPnl, setListPnl] = useState({});
  const [series, setSeries] = useState({});
  const [fills, setFills] = useState({});
  const [lots, setLots] = useState({});
  const [busy, setBusy] = useState(false);
  const [connection, setConnection] = useState("connecting");
  const [template, setTemplate] = useState(TEMPLATES[0].id);
  const selected = useRef(null);
  selected.current = selectedId;
  const knownLots = useRef({});
  const lastLive = useRef({});

  const call = useCallback(
    async (query, variables) => {
      try {
        return await api.request(query, variables);
      } catch (error) {
        if (error instanceof ApiError && error.unauthorized) onUnauthorized(error);
        else alert(error);
        return null;
      }
    },
    [api, onUnauthorized, alert],
  );

  const loadBaskets = useCallback(async () => {
    const data = await call(ops.BASKETS);
    if (!data) {
      setBaskets((current) => (current.state === "ready" ? current : { state: "failed", items: [] }));
      return;
    }
    const items = data.baskets.items;
    setBaskets({ state: "ready", items });
    const traded = items.filter((b) => b.status !== "DRAFT").slice(0, MAX_LIST_PNL);
    if (!traded.length) return;
    const { query, variables } = ops.basketsPnl(traded.map((b) => b.id));
    const figures = await call(query, variables);
    if (!figures) return;
    setListPnl((all) => {
      const next = { ...all };
      Object.values(figures).forEach((p) => {
        if (p) next[p.basketId] = p.pnl;
      });
      return next;
    });
  }, [call]);

  const loadLots = useCallback(
    async (instruments) => {
      const missing = instruments.filter(([id]) => !(id in knownLots.current));
      if (!missing.length) return;
      missing.forEach(([id]) => {
        knownLots.current[id] = null;
      });
      const { query, variables } = ops.lotSizes(missing.map(([, instrument]) => instrument));
      const data = await call(query, variables);
      if (!data) {
        missing.forEach(([id]) => delete knownLots.current[id]);
        return;
      }
      const found = {};
      missing.forEach(([id, instrument], i) => {
        const exact = (data[`i${i}`] || []).find((x) => x.exchange === instrument.exchange && x.tradingsymbol === instrument.tradingsymbol);
        if (exact) found[id] = exact.lotSize;
      });
      Object.assign(knownLots.current, found);
      setLots((all) => ({ ...all, ...found }));
    },
    [call],
  );

  const loadFills = useCallback(
    async (id) => {
      const items = [];
      let next = null;
      for (let page = 0; page < MAX_FILL_PAGES; page += 1) {
        const data = await call(ops.FILLS, { id, next });
        if (!data) {
          setFills((all) => ({ ...all, [id]: { ...(all[id] || { items: [] }), loaded: false, failed: true } }));
          return;
        }
        items.push(...data.fills.items);
        next = data.fills.nextToken;
        if (!next) break;
      }
      setFills((all) => ({ ...all, [id]: { loaded: true, items: mergeFills(all[id] && all[id].items, items) } }));
    },
    [call],
  );

  const loadBasket = useCallback(
    async (id) => {
      let data = null;
      try {
        data = await api.request(ops.BASKET, { id });
      } catch (error) {
        if (error instanceof ApiError && error.unauthorized) onUnauthorized(error);
        else alert(error);
        // a basket that is not there (or not the caller's) is not left "loading"; other failures keep it selected
        if (error.errorType === "NotFound" && selected.current === id) setSelectedId(null);
        return;
      }
      if (selected.current !== id) return;
      setBasket(data.basket);
      setRisk(Object.fromEntries((data.riskState?.legs || []).map((leg) => [leg.legId, leg])));
      applyPnl({ basketId: id, source: "page load", ...data.pnl, asOf: data.pnl.asOf || new Date().toISOString() }, true);
      await Promise.all([loadFills(id), loadLots(symbolsOf(data.basket))]);
    },
    [api, onUnauthorized, alert, loadFills, loadLots],
  );

  function applyPnl(event, initial) {
    // a live event older than one already applied (delivery is not ordered) would put back stale figures
    if (!initial) {
      const at = Date.parse(event.asOf);
      if (at < (lastLive.current[event.basketId] || 0)) return;
      lastLive.current[event.basketId] = at;
    }
    setPnl((all) => ({ ...all, [event.basketId]: event }));
    setListPnl((all) => ({ ...all, [event.basketId]: event.pnl }));
    if (event.basketId === selected.current) {
      const next = {};
      (event.positions || []).forEach((p) => {
        next[`${p.position.strategyId}:${p.position.tradingsymbol}`] = p;
      });
      setMarks(next);
    }
    setSeries((all) => {
      const points = all[event.basketId] || [];
      if (initial && points.length) return all;
      const point = { asOf: event.asOf, pnl: event.pnl, source: event.source || "live" };
      return { ...all, [event.basketId]: [...points, point].slice(-MAX_POINTS) };
    });
  }

  useEffect(() => {
    loadBaskets();
  }, [loadBaskets]);

  useEffect(() => {
    const hash = selectedId ? `#basket=${encodeURIComponent(selectedId)}` : "";
    if (window.location.hash !== hash) window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}${hash}`);
    setBasket(null);
    if (selectedId) loadBasket(selectedId);
  }, [selectedId, loadBasket]);

  useEffect(() => {
    const endpoint = realtimeEndpoint(config.graphqlUrl, config.realtimeUrl, window.location.href);
    const client = new AppSyncRealtimeClient({
      ...endpoint,
      authorization: () => token.current,
      onStatus: (status, error) => {
        setConnection(status);
        if (status !== "error" || !error) return;
        if (error.errorType === "UnauthorizedException") onUnauthorized(error);
        else alert({ errorType: error.errorType, message: `Live updates: ${error.message}` });
      },
      onReconnect: () => {
        loadBaskets();
        if (selected.current) loadBasket(selected.current);
      },
    });
    const variables = { ownerId: session.sub };
    const failed = (error) => {
      if (error.errorType === "UnauthorizedException") onUnauthorized(error);
      else alert(error);
    };
    const stops = [
      client.subscribe(ops.ON_ORDER_UPDATE, variables, {
        next: ({ onOrderUpdate: event }) => {
          if (!event) return;
          if (event.basketId === selected.current) {
            setBasket((current) => {
              if (!current || current.id !== event.basketId) return current;
              const orders = current.orders.some((o) => o.id === event.order.id)
                ? current.orders.map((o) => (o.id === event.order.id && o.version <= event.order.version ? event.order : o))
                : [...current.orders, event.order];
              return { ...current, orders };
            });
          }
          if (TERMINAL.has(event.order.status)) {
            loadBaskets();
            if (event.basketId === selected.current) loadBasket(event.basketId);
          }
        },
        error: failed,
      }),
      client.subscribe(ops.ON_FILL, variables, {
        next: ({ onFill: event }) => {
          if (!event) return;
          setFills((all) => {
            const book = all[event.basketId] || { loaded: false, items: [] };
            return { ...all, [event.basketId]: { ...book, items: mergeFills(book.items, [event.fill]) } };
          });
        },
        error: failed,
      }),
      client.subscribe(ops.ON_PNL, variables, {
        next: ({ onPnl: event }) => {
          if (event) applyPnl(event, false);
        },
        error: failed,
      }),
      client.subscribe(ops.ON_RISK_STATE, variables, {
        next: ({ onRiskState: event }) => {
          if (!event || event.basketId !== selected.current) return;
          setRisk((all) => ({ ...all, ...Object.fromEntries(event.legs.map((leg) => [leg.legId, leg])) }));
        },
        error: failed,
      }),
      client.subscribe(ops.ON_BASKET_UPDATE, variables, {
        next: ({ onBasketUpdate: event }) => {
          if (!event) return;
          const { status, statusMessage, version } = event;
          if (event.basketId === selected.current) {
            setBasket((current) => (current && current.version <= version ? { ...current, status, statusMessage, version } : current));
          }
          // an exit that could not finish: say why and what is still open, wherever the user is looking
          if (status === "FAILED" && statusMessage) alert({ errorType: "BasketFailed", message: statusMessage });
          loadBaskets();
        },
        error: failed,
      }),
    ];
    return () => {
      stops.forEach((stop) => stop());
      client.close();
    };
  }, [config, session.sub]);

  async function create() {
    const chosen = TEMPLATES.find((t) => t.id === template);
    setBusy(true);
    const data = await call(ops.CREATE_BASKET, { input: { ...chosen.input, name: `${chosen.input.name} ${formatTimeIst(new Date().toISOString())}` } });
    setBusy(false);
    if (!data) return;
    await loadBaskets();
    setSelectedId(data.createBasket.id);
  }

  async function run(mutation, field) {
    setBusy(true);
    const data = await call(mutation, { id: basket.id, rid: requestId() });
    setBusy(false);
    if (!data) return;
    const execution = data[field];
    const rejected = execution.orders.filter((o) => o.status === "REJECTED");
    rejected.forEach((o) =>
      alert({ errorType: "BrokerRejected", message: `${o.side} ${o.quantity} ${o.tradingsymbol}: ${o.statusMessage || "rejected"}` }),
    );
    if (execution.basket.status === "FAILED" && execution.basket.statusMessage) {
      alert({ errorType: "BasketFailed", message: execution.basket.statusMessage });
    }
    await loadBaskets();
    await loadBasket(basket.id);
  }

  async function place(form) {
    const [exchange, tradingsymbol] = form.instrument.split(":");
    const quantity = Number.parseInt(form.quantity, 10);
    if (!Number.isInteger(quantity)) {
      alert({ errorType: "ValidationError", message: "quantity must be a whole number" });
      return;
    }
    const input = { basketId: basket.id, clientRequestId: requestId(), exchange, tradingsymbol, side: form.side, quantity, orderType: form.orderType };
    if (form.price) input.price = form.price;
    if (form.triggerPrice) input.triggerPrice = form.triggerPrice;
    setBusy(true);
    const data = await call(ops.PLACE_ORDER, { input });
    setBusy(false);
    if (!data) return;
    const order = data.placeOrder;
    if (order.status === "REJECTED") {
      alert({ errorType: "BrokerRejected", message: `${order.side} ${order.quantity} ${order.tradingsymbol}: ${order.statusMessage || "rejected"}` });
    }
    await loadBasket(basket.id);
  }

  async function saveSettings(input) {
    setBusy(true);
    const data = await call(ops.UPDATE_BASKET, { input });
    setBusy(false);
    if (!data) return false;
    const saved = data.updateBasket;
    setBasket((b) => (b && b.id === saved.id ? { ...b, ...saved } : b));
    alert(
      {
        errorType: "Saved",
        message: `max loss ${saved.risk.maxLoss ? formatRupees(saved.risk.maxLoss) : "not set"}, target ${
          saved.risk.target ? formatRupees(saved.risk.target) : "not set"
        }, entry ${saved.schedule.entryAt || "—"}, exit ${saved.schedule.exitAt || "—"} (IST)`,
      },
      "notice",
    );
    return true;
  }

  const current = basket && basket.id === selectedId ? basket : null;
  const book = current ? fills[current.id] : null;
  const latest = current && pnl[current.id];
  const points = useMemo(
    () => (current ? pnlHistory((book && book.items) || [], series[current.id] || []) : []),
    [current && current.id, book, series],
  );
  const strategyNames = useMemo(
    () => (current ? Object.fromEntries(current.strategies.map((s) => [s.id, s.name])) : {}),
    [current],
  );
  const firstFill = points.find((p) => p.source === "first fill") || null;

  return (
    <div className="layout">
      <aside className="card baskets">
        <h2>Baskets</h2>
        <div className="create">
          <select aria-label="Template" data-testid="template" value={template} onChange={(e) => setTemplate(e.target.value)}>
            {TEMPLATES.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
          <button type="button" data-testid="create-basket" onClick={create} disabled={busy}>
            Create
          </button>
        </div>
        <ul data-testid="basket-list" data-state={baskets.state}>
          {baskets.items.map((b) => (
            <li key={b.id}>
              <button
                type="button"
                className={`basket ${b.id === selectedId ? "selected" : ""}`}
                data-testid="basket-item"
                data-basket-id={b.id}
                onClick={() => setSelectedId(b.id)}
              >
                <span className="basket-name">{b.name}</span>
                <span className="basket-meta">
                  {b.status !== "DRAFT" && <Money value={listPnl[b.id] ?? null} tone testId="basket-pnl" />}
                  <span className={`status status-${b.status}`}>{b.status}</span>
                </span>
              </button>
            </li>
          ))}
          {baskets.state === "loading" && (
            <li className="muted" data-testid="baskets-loading">
              Loading baskets…
            </li>
          )}
          {baskets.state === "failed" && (
            <li className="muted" data-testid="baskets-failed">
              Could not load baskets.{" "}
              <button type="button" className="link" onClick={loadBaskets}>
                Retry
              </button>
            </li>
          )}
          {baskets.state === "ready" && !baskets.items.length && (
            <li className="muted" data-testid="baskets-empty">
              No baskets yet: create one from a template.
            </li>
          )}
        </ul>
        <p className="muted small" data-testid="connection">
          Live updates: {connection}
        </p>
      </aside>
      <main className="detail">
        {!selectedId && <div className="card muted">Select or create a basket.</div>}
        {selectedId && !current && (
          <div className="card muted" data-testid="basket-loading">
            Loading basket…
          </div>
        )}
        {current && (
          <>
            <section className="card">
              <div className="row">
                <div>
                  <h2 data-testid="basket-name">{current.name}</h2>
                  <span className={`status status-${current.status}`} data-testid="basket-status">
                    {current.status}
                  </span>
                  {current.statusMessage && <span className="status-message"> {current.statusMessage}</span>}
                </div>
                <div className="actions">
                  <button type="button" data-testid="execute-basket" onClick={() => run(ops.EXECUTE_BASKET, "executeBasket")} disabled={busy || current.status !== "DRAFT"}>
                    Execute
                  </button>
                  <button type="button" data-testid="exit-basket" className="danger" onClick={() => run(ops.EXIT_BASKET, "exitBasket")} disabled={busy || !["LIVE", "EXECUTING", "FAILED"].includes(current.status)}>
                    Exit
                  </button>
                </div>
              </div>
              <BasketSettings key={current.id} basket={current} busy={busy} onSave={saveSettings} />
              <div className="pnl">
                <div>
                  <div className="muted small">P&amp;L</div>
                  <div data-testid="pnl-value" className="big">
                    <Money value={latest?.pnl} tone />
                  </div>
                  <div className="muted small">
                    realised <Money value={latest?.realised} /> · unrealised <Money value={latest?.unrealised} />
                  </div>
                </div>
                <div>
                  <PnlChart points={points} />
                  <p className="muted small caption" data-testid="pnl-caption">
                    {firstFill
                      ? `Basket P&L (₹): ₹0 until the first fill (${formatDateTimeIst(new Date(firstFill.at).toISOString())} IST), then the figure at page load and at each live update since. Between those points the line is a straight join, not recorded history. Dashed line: ₹0.`
                      : "Basket P&L (₹) at page load and at each live update since; the basket has no fills yet. Dashed line: ₹0."}
                  </p>
                </div>
              </div>
            </section>
            <section className="card">
              <h3>Orders</h3>
              <OrdersTable orders={current.orders} lots={lots} strategyNames={strategyNames} />
              {current.status === "LIVE" && <PlaceOrder basket={current} lots={lots} onPlace={place} busy={busy} />}
            </section>
            <section className="card">
              <h3>Positions by strategy</h3>
              <StrategyPositions basket={current} marks={marks} lots={lots} />
            </section>
            {Object.keys(risk).length > 0 && (
              <section className="card">
                <h3>Managed exits</h3>
                <LegRiskTable legs={Object.values(risk)} />
              </section>
            )}
            <section className="card">
              <h3>Trade book</h3>
              <TradeBook book={book} lots={lots} />
            </section>
          </>
        )}
      </main>
    </div>
  );
}

function App() {
  const [config, setConfig] = useState(null);
  const [session, setSession] = useState(loadSession);
  const [alerts, setAlerts] = useState([]);
  const [busy, setBusy] = useState(false);
  const auth = useMemo(() => (config ? createAuth(config, window.location.href) : null), [config]);

  const alert = useCallback((error, kind = "error") => {
    const described = describeError(error);
    const id = `${Date.now()}-${Math.random()}`;
    // one alert per message, and one "Session expired" however many requests (queries, the real-time socket)
    // were refused as the session ran out
    const same = (a) =>
      a.title === described.title && (a.message === described.message || described.title === "Session expired");
    setAlerts((all) =>
      all.some(same)
        ? all
        : [...all.slice(-4), { id, kind, ...described }],
    );
  }, []);
  const dismiss = useCallback((id) => setAlerts((all) => all.filter((a) => a.id !== id)), []);

  useEffect(() => {
    fetch("/dashboard/config.json")
      .then((reply) => reply.json())
      .then(setConfig)
      .catch((error) => alert({ errorType: "ConfigError", message: `could not load the dashboard config (${error.message})` }));
  }, [alert]);

  const signOut = useCallback(() => {
    saveSession(null);
    setSession(null);
  }, []);

  const onUnauthorized = useCallback(
    (error) => {
      alert(new ApiError(error.message, "UnauthorizedException", 401));
      signOut();
    },
    [alert, signOut],
  );

  // Renew the session shortly before its token expires (an already expired one is reported by the API).
  useEffect(() => {
    if (!session || !session.expiresAt || !auth) return undefined;
    const left = session.expiresAt - Date.now();
    if (left <= 0) return undefined;
    const timer = setTimeout(async () => {
      try {
        const next = await auth.refresh(session);
        saveSession(next);
        setSession(next);
      } catch (error) {
        alert(error);
      }
    }, Math.max(0, left - REFRESH_BEFORE_MS));
    return () => clearTimeout(timer);
  }, [session, auth, alert]);

  async function signIn(credentials) {
    setBusy(true);
    try {
      const next = await auth.signIn(credentials);
      saveSession(next);
      setSession(next);
      setAlerts([]);
    } catch (error) {
      alert(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <header className="top">
        <h1>basketgraph</h1>
        <nav>
          <a href={config?.graphiqlUrl || "/graphql"}>GraphiQL</a>
          {session && (
            <>
              <span data-testid="signed-in-as">
                {session.username}
                {session.expiresAt && <span className="muted small"> · token until {formatTimeIst(new Date(session.expiresAt).toISOString())} IST</span>}
              </span>
              <button type="button" className="link" onClick={signOut} data-testid="sign-out">
                Sign out
              </button>
            </>
          )}
        </nav>
      </header>
      <Alerts alerts={alerts} dismiss={dismiss} />
      {config && !session && auth && <SignIn auth={auth} busy={busy} onSignIn={signIn} />}
      {config && session && (
        <Dashboard key={session.sub} config={config} session={session} onUnauthorized={onUnauthorized} alert={alert} />
      )}
    </>
  );
}

createRoot(document.getElementById("root")).render(<App />);
