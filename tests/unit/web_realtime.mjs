// The dashboard's AppSync real-time client against a scripted fake socket: what it sends, and how it
// handles ack, data, errors, keep-alive loss and reconnects.
import { AppSyncRealtimeClient } from "../../web/src/realtime.js";

const sockets = [];
class FakeSocket {
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.sent = [];
    this.readyState = 0;
    sockets.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen && this.onopen();
    }, 0);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  receive(message) {
    this.onmessage({ data: JSON.stringify(message) });
  }
  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose && this.onclose({}), 0);
  }
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));
// Waits on what the client has done, not on a guess of how long it takes: a busy machine runs timers late.
async function until(condition, what, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}
const out = { statuses: [], data: [], errors: [], reconnects: 0 };
let token = "token-1";
const client = new AppSyncRealtimeClient({
  url: "wss://abc.appsync-realtime-api.ap-south-1.amazonaws.com/graphql",
  host: "abc.appsync-api.ap-south-1.amazonaws.com",
  authorization: () => token,
  onStatus: (status, error) => out.statuses.push(error ? `${status}:${error.errorType}:${error.message}` : status),
  onReconnect: () => {
    out.reconnects += 1;
  },
  WebSocketImpl: FakeSocket,
});

const stop = client.subscribe("subscription S($o: ID!) { onPnl(ownerId: $o) { pnl } }", { o: "me" }, {
  next: (data) => out.data.push(data),
  error: (error) => out.errors.push(`${error.errorType}:${error.message}`),
});
const failing = client.subscribe("subscription { onFill(ownerId: \"x\") { eventId } }", {}, {
  next: () => out.data.push("unexpected"),
  error: (error) => out.errors.push(`${error.errorType}:${error.message}`),
});
await until(() => sockets[0] && sockets[0].sent.length > 0, "the first connection_init");
const first = sockets[0];
out.url = first.url;
out.protocol = first.protocol;
out.header = JSON.parse(atob(new URL(first.url).searchParams.get("header")));
out.payloadParam = new URL(first.url).searchParams.get("payload");
out.beforeAck = first.sent.map((m) => m.type);
first.receive({ type: "connection_ack", payload: { connectionTimeoutMs: 60 } });
await tick(); // shorter than the 60 ms keep-alive timer, so it always fires first
out.starts = first.sent.filter((m) => m.type === "start");
const [pnlStart, fillStart] = out.starts;
first.receive({ type: "start_ack", id: pnlStart.id });
first.receive({ type: "data", id: pnlStart.id, payload: { data: { onPnl: { pnl: "1.00" } } } });
first.receive({ type: "error", id: fillStart.id, payload: { errors: [{ errorType: "Unauthorized", message: "not yours" }] } });
first.receive({ type: "ka" });

// No keep-alive within connectionTimeoutMs: the client drops the connection and reconnects with the current token.
token = "token-2";
await until(() => sockets[1] && sockets[1].sent.length > 0, "the reconnection's connection_init");
const second = sockets[1];
out.secondHeader = second ? JSON.parse(atob(new URL(second.url).searchParams.get("header"))) : null;
second.receive({ type: "connection_ack", payload: { connectionTimeoutMs: 300000 } });
await until(() => second.sent.some((m) => m.type === "start"), "the restarted subscription");
out.restarted = second.sent.filter((m) => m.type === "start").map((m) => ({ id: m.id, auth: m.payload.extensions.authorization }));
second.receive({ type: "data", id: pnlStart.id, payload: { data: { onPnl: { pnl: "2.00" } } } });
stop();
out.afterStop = second.sent[second.sent.length - 1];
second.receive({ type: "data", id: pnlStart.id, payload: { data: { onPnl: { pnl: "3.00" } } } });
void failing;

// A refused connection (bad token): reported once through onStatus, and not retried.
const refusedStatuses = [];
const refused = new AppSyncRealtimeClient({
  url: "ws://127.0.0.1:4000/graphql",
  host: "127.0.0.1:4000",
  authorization: () => "expired",
  onStatus: (status, error) => refusedStatuses.push(error ? `${status}:${error.errorType}` : status),
  WebSocketImpl: FakeSocket,
});
const refusedErrors = [];
refused.subscribe("subscription { onPnl(ownerId: \"me\") { pnl } }", {}, { next: () => {}, error: (e) => refusedErrors.push(e.message) });
await until(() => sockets[2], "the refused client's socket");
sockets[2].receive({ type: "connection_error", payload: { errors: [{ errorType: "UnauthorizedException", message: "Token expired" }] } });
await tick(50);
out.refused = { statuses: refusedStatuses, errors: refusedErrors, sockets: sockets.length };
client.close();
process.stdout.write(JSON.stringify(out));
