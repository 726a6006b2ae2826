// basketgraph from Node with Apollo Client and AWS's AppSync links (`aws-appsync-auth-link`,
// `aws-appsync-subscription-link`), unchanged: queries and mutations over HTTP, subscriptions over AppSync's
// real-time protocol. Works over http/ws against `basketgraph dev`:
//
//   node examples/js/apollo.mjs --url http://127.0.0.1:4000/graphql
//
// and over https/wss against `basketgraph dev --tls` (NODE_EXTRA_CA_CERTS=.state/tls/ca.pem) or a deployed API
// (pass its URL and --token, a Cognito id token).
import WebSocket from 'ws';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { execute } from '@apollo/client/link';
import { createAuthLink } from 'aws-appsync-auth-link';
import { CONTROL_EVENTS_KEY, createSubscriptionHandshakeLink } from 'aws-appsync-subscription-link';

import { options, localTokens, run, describe } from './scenario.mjs';

globalThis.WebSocket ??= WebSocket; // Node 20 has no WebSocket of its own (Node 22 does)

const args = options('http://127.0.0.1:4000/graphql');

async function main() {
  const token = args.token ?? (await localTokens(args.url, args.user)).token;
  const auth = { type: 'AMAZON_COGNITO_USER_POOLS', jwtToken: async () => token };
  const config = { url: args.url, region: 'ap-south-1', auth };
  const link = ApolloLink.from([
    createAuthLink(config),
    createSubscriptionHandshakeLink(config, new HttpLink({ uri: args.url })),
  ]);
  const apollo = new ApolloClient({ link, cache: new InMemoryCache(), defaultOptions: { query: { fetchPolicy: 'no-cache' } } });

  const client = {
    query: async (query, variables = {}) => {
      const document = gql(query);
      const isMutation = document.definitions.some((d) => d.operation === 'mutation');
      const result = isMutation
        ? await apollo.mutate({ mutation: document, variables, fetchPolicy: 'no-cache' })
        : await apollo.query({ query: document, variables, fetchPolicy: 'no-cache' });
      if (result.error) throw result.error;
      return result.data;
    },
    // The subscription link reports its start_ack as a control message when asked to (CONTROL_EVENTS_KEY).
    subscribe: (query, variables, { next, error }) => {
      let acknowledged;
      const ready = new Promise((resolve) => { acknowledged = resolve; });
      // Apollo Client drops the link's data-less control messages, so this runs the same link directly
      const operation = { query: gql(query), variables, context: { controlMessages: { [CONTROL_EVENTS_KEY]: true } } };
      const subscription = execute(link, operation, { client: apollo })
        .subscribe({
          next: (result) => {
            if (result.extensions?.controlMsgType === 'CONNECTED') return acknowledged();
            if (result.errors) return error(result);
            if (result.data) next(result.data);
          },
          error: (e) => { acknowledged(); error(e); },
        });
      return { unsubscribe: () => subscription.unsubscribe(), ready };
    },
    settle: async () => {},
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
