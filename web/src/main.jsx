import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, GraphQLClient, describeError } from "./api.js";
import { createAuth } from "./auth.js";
import { PnlChart } from "./PnlChart.jsx";
import { AppSyncRealtimeClient, realtimeEndpoint } from "./realtime.js";
import { TEMPLATES } from "./templates.js";
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

function rupees(value) {
  if (value === null || value === undefined) return "—";
  const text = String(value);
  return `₹${text.startsWith("-") ? `−${text.slice(1)}` : text}`;
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

function OrdersTable({ orders }) {
  if (!orders.length) return <p className="muted">No orders yet.</p>;
  return (
    <table data-testid="orders">
      <thead>
        <tr>
          <th>Symbol</th>
          <th>Side</th>
          <th>Qty</th>
          <th>Filled</th>
          <th>Avg price</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.id} data-testid="order" data-status={o.status}>
            <td>{o.tradingsymbol}</td>
            <td className={o.side === "BUY" ? "buy" : "sell"}>{o.side}</td>
            <td>{o.quantity}</td>
            <td>{o.filledQuantity}</td>
            <td>{o.averagePrice ?? "—"}</td>
            <td>
              <span className={`status status-${o.status}`}>{o.status}</span>
              {o.statusMessage && <div className="status-message">{o.statusMessage}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PositionsTable({ positions, marks }) {
  if (!positions.length) return <p className="muted">No positions yet.</p>;
  return (
    <table data-testid="positions">
      <thead>
        <tr>
          <th>Symbol</th>
          <th>Net qty</th>
          <th>Buy value</th>
          <th>Sell value</th>
          <th>LTP</th>
          <th>P&amp;L</th>
        </tr>
      </thead>
      <tbody>
        {positions.map((p) => {
          const mark = marks[`${p.strategyId}:${p.tradingsymbol}`] || {};
          return (
            <tr key={`${p.strategyId}:${p.tradingsymbol}`} data-testid="position">
              <td>{p.tradingsymbol}</td>
              <td>{p.netQuantity}</td>
              <td>{p.buyValue}</td>
              <td>{p.sellValue}</td>
              <td>{mark.lastPrice ?? "—"}</td>
              <td className={String(mark.pnl || "").startsWith("-") ? "loss" : "profit"}>{rupees(mark.pnl)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function PlaceOrder({ basket, onPlace, busy }) {
  const symbols = useMemo(() => {
    const seen = new Set();
    basket.strategies.forEach((s) => s.legs.forEach((l) => seen.add(`${l.exchange}:${l.tradingsymbol}`)));
    return [...seen];
  }, [basket]);
  const [form, setForm] = useState({ instrument: symbols[0] || "", side: "BUY", quantity: "", orderType: "MARKET", price: "", triggerPrice: "" });
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
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
      <input aria-label="Quantity" name="quantity" placeholder="quantity" value={form.quantity} onChange={set("quantity")} required />
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
    </form>
  );
}

function Dashboard({ config, session, onUnauthorized, alert }) {
  // The token changes when the session is renewed; requests and reconnects always use the latest.
  const token = useRef(session.token);
  token.current = session.token;
  const api = useMemo(
    () => new GraphQLClient({ url: new URL(config.graphqlUrl, window.location.href).href, authorization: () => token.current }),
    [config],
  );
  const [baskets, setBaskets] = useState([]);
  const [selectedId, setSelectedId] = useState(null);
  const [basket, setBasket] = useState(null);
  const [marks, setMarks] = useState({});
  const [pnl, setPnl] = useState({});
  const [series, setSeries] = useState({});
  const [fills, setFills] = useState({});
  const [busy, setBusy] = useState(false);
  const [connection, setConnection] = useState("connecting");
  const [template, setTemplate] = useState(TEMPLATES[0].id);
  const selected = useRef(null);
  selected.current = selectedId;

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
    if (data) setBaskets(data.baskets.items);
  }, [call]);

  const loadBasket = useCallback(
    async (id) => {
      const data = await call(ops.BASKET, { id });
      if (!data || selected.current !== id) return;
      setBasket(data.basket);
      applyPnl({ basketId: id, asOf: new Date().toISOString(), ...data.pnl }, true);
    },
    [call],
  );

  function applyPnl(event, initial) {
    setPnl((all) => ({ ...all, [event.basketId]: event }));
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
      return { ...all, [event.basketId]: [...points, { asOf: event.asOf, pnl: event.pnl }].slice(-MAX_POINTS) };
    });
  }

  useEffect(() => {
    loadBaskets();
  }, [loadBaskets]);

  useEffect(() => {
    if (selectedId) loadBasket(selectedId);
    else setBasket(null);
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
              if (!current) return current;
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
          setFills((all) => ({ ...all, [event.basketId]: [event.fill, ...(all[event.basketId] || [])].slice(0, 200) }));
        },
        error: failed,
      }),
      client.subscribe(ops.ON_PNL, variables, {
        next: ({ onPnl: event }) => {
          if (event) applyPnl(event, false);
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
    const data = await call(ops.CREATE_BASKET, { input: { ...chosen.input, name: `${chosen.input.name} ${new Date().toLocaleTimeString("en-IN", { hour12: false })}` } });
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

  const current = basket && basket.id === selectedId ? basket : null;
  const points = (current && series[current.id]) || [];
  const latest = current && pnl[current.id];

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
        <ul data-testid="basket-list">
          {baskets.map((b) => (
            <li key={b.id}>
              <button
                type="button"
                className={`basket ${b.id === selectedId ? "selected" : ""}`}
                data-testid="basket-item"
                data-basket-id={b.id}
                onClick={() => setSelectedId(b.id)}
              >
                <span>{b.name}</span>
                <span className={`status status-${b.status}`}>{b.status}</span>
              </button>
            </li>
          ))}
          {!baskets.length && <li className="muted">No baskets yet: create one from a template.</li>}
        </ul>
        <p className="muted small" data-testid="connection">
          Live updates: {connection}
        </p>
      </aside>
      <main className="detail">
        {!current && <div className="card muted">Select or create a basket.</div>}
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
              <div className="pnl">
                <div>
                  <div className="muted small">P&amp;L</div>
                  <div data-testid="pnl-value" className={`big ${String(latest?.pnl || "").startsWith("-") ? "loss" : "profit"}`}>
                    {rupees(latest?.pnl)}
                  </div>
                  <div className="muted small">
                    realised {rupees(latest?.realised)} · unrealised {rupees(latest?.unrealised)}
                  </div>
                </div>
                <PnlChart points={points} />
              </div>
            </section>
            <section className="card">
              <h3>Orders</h3>
              <OrdersTable orders={current.orders} />
              {current.status === "LIVE" && <PlaceOrder basket={current} onPlace={place} busy={busy} />}
            </section>
            <section className="grid2">
              <div className="card">
                <h3>Positions</h3>
                <PositionsTable positions={current.positions} marks={marks} />
              </div>
              <div className="card">
                <h3>Fills (live)</h3>
                <ul className="fills" data-testid="fills">
                  {(fills[current.id] || []).map((f) => (
                    <li key={f.tradeId} data-testid="fill">
                      {new Date(f.filledAt).toLocaleTimeString("en-IN", { hour12: false })} {f.side} {f.quantity} {f.tradingsymbol} @ {f.price}
                    </li>
                  ))}
                  {!(fills[current.id] || []).length && <li className="muted">Fills appear here as they happen.</li>}
                </ul>
              </div>
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
    setAlerts((all) =>
      all.some((a) => a.title === described.title && a.message === described.message)
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
                {session.expiresAt && <span className="muted small"> · token until {new Date(session.expiresAt).toLocaleTimeString("en-IN", { hour12: false })}</span>}
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
