// AppSync subscriptions through AWS Amplify v6's own real-time client (aws-amplify/api, `graphql-ws` over the
// `header-` subprotocol, keep-alives, reconnects): the same code for a deployed AppSync API and the local stack.
//
// Amplify always opens wss:// (it rewrites http:// endpoints to wss://). A deployed API and `basketgraph dev
// --tls` need nothing more. For a plain-http local stack, and only for the host of its GraphQL endpoint, the
// page lets Amplify's socket open with ws:// instead (see allowPlainWebSocket); everything Amplify sends and
// expects stays the same.
import { CONNECTION_STATE_CHANGE, ConnectionState, generateClient } from "aws-amplify/api";
import { Hub } from "aws-amplify/utils";
import { errorTypeOf } from "./api.js";
import { useAuthorization } from "./auth.js";

const APPSYNC_API = /^https:\/\/\w{26}\.appsync-api\.\w{2}(?:(?:-\w{2,})+)-\d\.amazonaws\.com(?:\.cn)?\/graphql$/i;

/** The real-time URL Amplify opens for a GraphQL endpoint, and the `host` it signs into the header.
 *
 * AppSync: https://X.appsync-api.R.amazonaws.com/graphql → wss://X.appsync-realtime-api.R.amazonaws.com/graphql.
 * Anything else (a custom domain, the local stack): the endpoint plus /realtime, with wss:// (ws:// for a plain
 * http:// endpoint, which only the local stack has). The second argument is accepted for older configs.
 */
export function realtimeEndpoint(graphqlUrl, _realtimeUrl, base) {
  const http = new URL(graphqlUrl, base);
  const plain = http.protocol === "http:";
  let url = http.href;
  if (APPSYNC_API.test(url)) url = url.replace("appsync-api", "appsync-realtime-api");
  else url = `${url.replace(/\/$/, "")}/realtime`;
  url = url.replace(/^https?:\/\//, plain ? "ws://" : "wss://");
  return { url, host: http.host };
}

const plainHosts = new Set();

/** Let Amplify's wss:// socket to `host` open as ws:// (a local stack without --tls). Nothing else changes. */
export function allowPlainWebSocket(host) {
  plainHosts.add(host);
  const Native = globalThis.WebSocket;
  if (!Native || Native.basketgraphPlain) return;
  class PlainLocalWebSocket extends Native {
    constructor(url, protocols) {
      const target = new URL(url);
      if (target.protocol === "wss:" && plainHosts.has(target.host)) target.protocol = "ws:";
      super(target.href, protocols);
    }
  }
  PlainLocalWebSocket.basketgraphPlain = true;
  globalThis.WebSocket = PlainLocalWebSocket;
}

/** An error from the real-time endpoint, with AppSync's errorType. */
export class RealtimeError extends Error {
  constructor(errors) {
    const first = (errors && errors[0]) || {};
    const type = errorTypeOf(first);
    const raw = String(first.message || "the subscription failed");
    // 'Connection failed: {"errors":[{"errorType":"…","message":"…"}]}' → the message inside
    const inner = raw.match(/"message"\s*:\s*"((?:[^"\\]|\\.)*)"/);
    const bare = raw.match(/^Connection failed: (\w+)$/); // Amplify keeps only the errorType of a refused connection
    super(inner ? JSON.parse(`"${inner[1]}"`) : bare ? `the real-time endpoint refused the connection (${bare[1]})` : raw);
    this.errorType = type || "SubscriptionError";
    this.errors = errors || [];
  }
}

const STATUS = {
  [ConnectionState.Connected]: "connected",
  [ConnectionState.Connecting]: "connecting",
  [ConnectionState.ConnectedPendingNetwork]: "reconnecting",
  [ConnectionState.ConnectionDisrupted]: "reconnecting",
  [ConnectionState.ConnectionDisruptedPendingNetwork]: "reconnecting",
  [ConnectionState.ConnectedPendingDisconnect]: "connected",
  [ConnectionState.ConnectedPendingKeepAlive]: "connected",
  [ConnectionState.Disconnected]: "closed",
};

export class AppSyncRealtimeClient {
  /**
   * @param {object} options
   * @param {string} options.url  the real-time URL (see realtimeEndpoint); ws:// lets Amplify open it without TLS
   * @param {string} options.host the GraphQL endpoint's host
   * @param {() => string} options.authorization the current token (the session's Cognito access token)
   * @param {(status: string, error?: RealtimeError) => void} [options.onStatus] connecting | connected | reconnecting | closed | error
   * @param {() => void} [options.onReconnect] called after a reconnect: events sent meanwhile are not replayed, re-query
   */
  constructor(options) {
    this.options = options;
    if (String(options.url).startsWith("ws://")) allowPlainWebSocket(options.host);
    useAuthorization(options.authorization);
    this.client = generateClient();
    this.subscriptions = new Set();
    this.closed = false;
    this.disrupted = false;
    this.connected = false;
    this.stopListening = Hub.listen("api", ({ payload }) => {
      if (this.closed || payload.event !== CONNECTION_STATE_CHANGE) return;
      const state = payload.data.connectionState;
      const status = STATUS[state] || String(state).toLowerCase();
      if (state === ConnectionState.ConnectionDisrupted || state === ConnectionState.ConnectionDisruptedPendingNetwork) {
        this.disrupted = this.connected;
      }
      if (state === ConnectionState.Connected) {
        this.connected = true;
        if (this.disrupted && this.options.onReconnect) this.options.onReconnect();
        this.disrupted = false;
      }
      this.status(status);
    });
    this.status("connecting");
  }

  status(status, detail) {
    if (this.options.onStatus) this.options.onStatus(status, detail);
  }

  /**
   * Start a subscription; returns a function that stops it.
   * @param {string} query
   * @param {object} variables
   * @param {{next: (data: object) => void, error?: (e: RealtimeError) => void}} handlers
   */
  subscribe(query, variables, handlers) {
    let subscription = null; // an error can arrive before subscribe() returns
    subscription = this.client.graphql({ query, variables: variables || {} }).subscribe({
      next: (message) => {
        if (message && message.data) handlers.next(message.data);
      },
      error: (error) => {
        this.subscriptions.delete(subscription);
        const failure = new RealtimeError((error && error.errors) || [error]);
        if (handlers.error) handlers.error(failure);
        else this.status("error", failure);
      },
    });
    this.subscriptions.add(subscription);
    return () => {
      if (this.subscriptions.delete(subscription)) subscription.unsubscribe();
    };
  }

  close() {
    this.closed = true;
    this.stopListening();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.clear();
    this.status("closed");
  }
}
