// basketgraph from Node with AWS Amplify v6 (`aws-amplify`), unchanged: queries, mutations and AppSync
// subscriptions over its own real-time client. Amplify always opens wss://, so against the local stack run
// `basketgraph dev --tls` and trust the stack's CA:
//
//   NODE_EXTRA_CA_CERTS=.state/tls/ca.pem node examples/js/amplify.mjs --url https://127.0.0.1:4000/graphql
//
// Against a deployed API pass its URL and --access-token (Amplify's user-pool mode sends the access token).
import WebSocket from 'ws';
import { Amplify } from 'aws-amplify';
import { Hub } from 'aws-amplify/utils';
import { generateClient, CONNECTION_STATE_CHANGE, ConnectionState } from 'aws-amplify/api';
import { decodeJWT } from 'aws-amplify/auth';

import { options, localTokens, run, describe, within } from './scenario.mjs';

globalThis.WebSocket ??= WebSocket; // Node 20 has no WebSocket of its own (Node 22 does)

const args = options('https://127.0.0.1:4000/graphql');

async function main() {
  const tokens = args['access-token']
    ? { accessToken: args['access-token'], token: args.token ?? args['access-token'] }
    : await localTokens(args.url, args.user);
  Amplify.configure(
    {
      API: { GraphQL: { endpoint: args.url, region: 'ap-south-1', defaultAuthMode: 'userPool' } },
      Auth: { Cognito: { userPoolId: tokens.userPoolId ?? 'ap-south-1_deployed', userPoolClientId: tokens.userPoolClientId ?? 'deployed' } },
    },
    {
      Auth: {
        tokenProvider: {
          getTokens: async () => ({ accessToken: decodeJWT(tokens.accessToken), idToken: decodeJWT(tokens.token) }),
        },
      },
    },
  );
  const api = generateClient();

  // Amplify reports each start_ack on the Hub ('Connection established for subscription') and the socket's state;
  // the scenario waits for every live subscription to be acknowledged before it executes the basket.
  let acked = 0; // start_acks since the socket last (re)connected
  const live = new Set();
  let state = ConnectionState.Disconnected;
  let closing = false; // an auth error was reported: Amplify is about to close and reopen its socket
  let waiting = [];
  const wake = () => {
    if (!closing && state === ConnectionState.Connected && acked >= live.size) {
      for (const resolve of waiting) resolve();
      waiting = [];
    }
  };
  Hub.listen('api', ({ payload }) => {
    if (payload.event === CONNECTION_STATE_CHANGE) {
      if (payload.data.connectionState === ConnectionState.ConnectionDisrupted) {
        console.log('amplify: socket closed, reconnecting');
        acked = 0;
        closing = false;
      }
      state = payload.data.connectionState;
    } else if (payload.event === 'Subscription ack') {
      acked += 1;
    }
    wake();
  });

  const client = {
    query: async (query, variables = {}) => {
      const result = await api.graphql({ query, variables });
      return result.data;
    },
    subscribe: (query, variables, { next, error }) => {
      const k = Symbol(query);
      const subscription = api.graphql({ query, variables }).subscribe({
        next: ({ data }) => next(data),
        error: (e) => {
          live.delete(k);
          // Amplify closes the socket on these errorTypes (AWSWebSocketProvider, "Auth error - reconnecting")
          const type = e?.errors?.[0]?.message ?? '';
          if (/"errorType":"(Unauthorized|UnauthorizedException|NotAuthorizedException)"/.test(type)) closing = true;
          error(e);
          wake();
        },
      });
      live.add(k);
      // acknowledged when settle() says so (Amplify reports start_acks on the Hub, not per subscription)
      return { unsubscribe: () => { live.delete(k); subscription.unsubscribe(); }, ready: Promise.resolve() };
    },
    settle: () => within(args.timeoutMs, 'the subscriptions to be acknowledged', new Promise((resolve) => {
      waiting.push(resolve);
      wake();
    })),
  };
  await run(client, args);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`failed: ${describe(error)}`);
    process.exit(1);
  },
);
