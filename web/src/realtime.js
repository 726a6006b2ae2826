// A small AppSync real-time client (the `graphql-ws` subprotocol AppSync speaks): connection_init,
// connection_ack, ka, start/start_ack/data/stop/complete, error and connection_error.
// The same code talks to a deployed AppSync API and to the local stack; only the endpoint and the
// authorization header differ (see realtimeEndpoint).

const SUBPROTOCOL = "graphql-ws";
const EMPTY_PAYLOAD = "e30="; // base64("{}"), as AppSync expects

function base64Json(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  bytes.forEach((b) => {
    binary += String.fromCharCode(b);
  });
  return btoa(binary);
}

/** The real-time URL and `host` for a GraphQL endpoint.
 *
 * AppSync: https://X.appsync-api.R.amazonaws.com/graphql → wss://X.appsync-realtime-api.R.amazonaws.com/graphql.
 * Anything else (the local stack, a custom domain given `realtimeUrl`): the same URL with a ws(s) scheme.
 */
export function realtimeEndpoint(graphqlUrl, realtimeUrl, base) {
  const http = new URL(graphqlUrl, base);
  let ws;
  if (realtimeUrl) {
    ws = new URL(realtimeUrl, base);
  } else {
    ws = new URL(http.href);
    ws.hostname = ws.hostname.replace(".appsync-api.", ".appsync-realtime-api.");
  }
  if (ws.protocol === "https:") ws.protocol = "wss:";
  if (ws.protocol === "http:") ws.protocol = "ws:";
  return { url: ws.href, host: http.host };
}

/** An error from the real-time endpoint, with AppSync's errorType. */
export class RealtimeError extends Error {
  constructor(errors) {
    const first = (errors && errors[0]) || {};
    super(first.message || "the subscription failed");
    this.errorType = first.errorType || "SubscriptionError";
    this.errors = errors || [];
  }
}

let nextId = 0;
function operationId() {
  nextId += 1;
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  return `op-${Date.now()}-${nextId}`;
}

export class AppSyncRealtimeClient {
  /**
   * @param {object} options
   * @param {string} options.url  wss://… real-time URL (see realtimeEndpoint)
   * @param {string} options.host the GraphQL endpoint's host, signed into the header as AppSync requires
   * @param {() => Promise<string>|string} options.authorization the current token (Cognito id token)
   * @param {(status: string, error?: RealtimeError) => void} [options.onStatus] connecting | connected | reconnecting | closed | error
   * @param {() => void} [options.onReconnect] called after a reconnect: events sent meanwhile are not replayed, re-query
   * @param {typeof WebSocket} [options.WebSocketImpl]
   */
  constructor(options) {
    this.options = options;
    this.subscriptions = new Map();
    this.socket = null;
    this.ready = null;
    this.closed = false;
    this.attempt = 0;
    this.kaTimer = null;
    this.retryTimer = null;
    this.timeoutMs = 300000;
    this.hasConnected = false;
    this.generation = 0; // one per acknowledged connection: a subscription starts once on each
  }

  async headers() {
    const token = await this.options.authorization();
    return { host: this.options.host, Authorization: token };
  }

  status(status, detail) {
    if (this.options.onStatus) this.options.onStatus(status, detail);
  }

  /** Open the connection (once); resolves on connection_ack, rejects on connection_error. */
  connect() {
    if (this.ready) return this.ready;
    this.closed = false;
    this.ready = this.open();
    this.ready.catch(() => {
      this.ready = null;
    });
    return this.ready;
  }

  async open() {
    const header = await this.headers();
    const Impl = this.options.WebSocketImpl || WebSocket;
    const url = `${this.options.url}${this.options.url.includes("?") ? "&" : "?"}header=${encodeURIComponent(
      base64Json(header),
    )}&payload=${EMPTY_PAYLOAD}`;
    this.status(this.hasConnected ? "reconnecting" : "connecting");
    return new Promise((resolve, reject) => {
      let acknowledged = false;
      const socket = new Impl(url, SUBPROTOCOL);
      this.socket = socket;
      socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init" }));
      socket.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message.type === "connection_ack") {
          acknowledged = true;
          this.attempt = 0;
          this.timeoutMs = (message.payload && message.payload.connectionTimeoutMs) || this.timeoutMs;
          this.keepAlive();
          const reconnected = this.hasConnected;
          this.hasConnected = true;
          this.generation += 1;
          this.status("connected");
          for (const [id, subscription] of this.subscriptions) this.sendStart(id, subscription);
          if (reconnected && this.options.onReconnect) this.options.onReconnect();
          resolve();
        } else if (message.type === "connection_error") {
          const error = new RealtimeError(message.payload && message.payload.errors);
          this.status("error", error);
          this.closed = true; // bad credentials: retrying would only fail again
          socket.close();
          reject(error);
        } else {
          this.dispatch(message);
        }
      };
      socket.onclose = () => {
        this.clearKeepAlive();
        this.socket = null;
        if (!acknowledged) {
          const error = new RealtimeError([{ message: "the real-time endpoint closed the connection" }]);
          if (!this.closed) this.status("error", error);
          reject(error);
        }
        this.ready = null;
        if (!this.closed && acknowledged) this.scheduleReconnect();
      };
    });
  }

  dispatch(message) {
    const subscription = message.id ? this.subscriptions.get(message.id) : null;
    switch (message.type) {
      case "ka":
        this.keepAlive();
        break;
      case "start_ack":
        if (subscription && subscription.onStarted) subscription.onStarted();
        break;
      case "data":
        if (subscription) {
          const payload = message.payload || {};
          if (payload.errors && payload.errors.length && subscription.error) {
            subscription.error(new RealtimeError(payload.errors));
          }
          if (payload.data) subscription.next(payload.data);
        }
        break;
      case "error":
        if (subscription) {
          this.subscriptions.delete(message.id);
          if (subscription.error) subscription.error(new RealtimeError(message.payload && message.payload.errors));
        } else {
          this.status("error", new RealtimeError(message.payload && message.payload.errors));
        }
        break;
      case "complete":
        if (subscription) this.subscriptions.delete(message.id);
        break;
      default:
        break;
    }
  }

  keepAlive() {
    this.clearKeepAlive();
    // AppSync closes a silent connection after connectionTimeoutMs; so do we, then reconnect.
    this.kaTimer = setTimeout(() => {
      if (this.socket) this.socket.close();
    }, this.timeoutMs);
  }

  clearKeepAlive() {
    if (this.kaTimer) clearTimeout(this.kaTimer);
    this.kaTimer = null;
  }

  scheduleReconnect() {
    this.attempt += 1;
    const delay = Math.min(30000, 500 * 2 ** Math.min(this.attempt - 1, 6));
    this.status("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().catch(() => {
        if (!this.closed) this.scheduleReconnect();
      });
    }, delay);
  }

  async sendStart(id, subscription) {
    if (!this.socket || this.socket.readyState !== 1 || subscription.generation === this.generation) return;
    subscription.generation = this.generation;
    const headers = await this.headers();
    this.socket.send(
      JSON.stringify({
        id,
        type: "start",
        payload: {
          data: JSON.stringify({ query: subscription.query, variables: subscription.variables || {} }),
          extensions: { authorization: headers },
        },
      }),
    );
  }

  /**
   * Start a subscription; returns a function that stops it.
   * @param {string} query
   * @param {object} variables
   * @param {{next: (data: object) => void, error?: (e: RealtimeError) => void, onStarted?: () => void}} handlers
   */
  subscribe(query, variables, handlers) {
    const id = operationId();
    const subscription = { query, variables, ...handlers };
    this.subscriptions.set(id, subscription);
    // A failed connection is reported once, through onStatus; the subscription waits for the next one.
    this.connect()
      .then(() => this.sendStart(id, subscription))
      .catch(() => {});
    return () => {
      if (this.subscriptions.delete(id) && this.socket && this.socket.readyState === 1) {
        this.socket.send(JSON.stringify({ id, type: "stop" }));
      }
    };
  }

  close() {
    this.closed = true;
    this.subscriptions.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearKeepAlive();
    if (this.socket) this.socket.close();
    this.socket = null;
    this.ready = null;
    this.status("closed");
  }
}
