// What both JavaScript examples do, whichever client carries it: sign in, create the demo basket, subscribe to its
// onOrderUpdate, onFill and onPnl, execute it, and print every event until each order is finished and filled.
// Optionally (--probe-owner <id>) first try to subscribe to someone else's orders, which the API refuses.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const ME = 'query Me { me { id username } }';
export const CREATE = `mutation CreateBasket($input: CreateBasketInput!) {
  createBasket(input: $input) { id name status strategies { legs { tradingsymbol } } }
}`;
export const EXECUTE = `mutation ExecuteBasket($id: ID!, $rid: String!) {
  executeBasket(basketId: $id, clientRequestId: $rid) { basket { status } orders { id status quantity } }
}`;
export const ON_ORDER_UPDATE = `subscription OnOrderUpdate($ownerId: ID!, $basketId: ID) {
  onOrderUpdate(ownerId: $ownerId, basketId: $basketId) { eventId order { id status quantity filledQuantity } }
}`;
export const ON_FILL = `subscription OnFill($ownerId: ID!, $basketId: ID) {
  onFill(ownerId: $ownerId, basketId: $basketId) { eventId fill { tradeId orderId quantity price } }
}`;
export const ON_PNL = `subscription OnPnl($ownerId: ID!, $basketId: ID) {
  onPnl(ownerId: $ownerId, basketId: $basketId) { basketId pnl asOf }
}`;

const TERMINAL = new Set(['COMPLETE', 'CANCELLED', 'REJECTED']);

export function options(defaultUrl) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.BASKETGRAPH_URL ?? defaultUrl },
      user: { type: 'string', default: 'demo' },
      token: { type: 'string' }, // a deployed API: the Cognito id token (Apollo) / see --access-token (Amplify)
      'access-token': { type: 'string' },
      timeout: { type: 'string', default: '60' },
      'probe-owner': { type: 'string' },
    },
  });
  return { ...values, timeoutMs: Number(values.timeout) * 1000 };
}

/** Tokens from the local stack's user endpoint (only the local stack has one; on AWS pass --token). */
export async function localTokens(url, user) {
  const users = new URL('/local/users', url);
  const reply = await fetch(users, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user }),
  });
  if (!reply.ok) throw new Error(`the local stack refused user ${user}: HTTP ${reply.status}`);
  return reply.json();
}

export function condor(name = 'NIFTY iron condor') {
  const file = new URL('../../local/demo_baskets.json', import.meta.url);
  const basket = JSON.parse(readFileSync(file, 'utf8')).baskets.find((b) => b.id === 'nifty-iron-condor');
  return { ...basket.input, name };
}

export function describe(error) {
  const first = error?.errors?.[0] ?? error?.graphQLErrors?.[0] ?? error;
  return `${first?.errorType ?? first?.extensions?.errorType ?? 'Error'}: ${first?.message ?? String(error)}`;
}

function deadline(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000}s waiting for ${what}`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** `await within(ms, what, promise)`: the promise's value, or a readable timeout. */
export async function within(ms, what, promise) {
  const limit = deadline(ms, what);
  try {
    return await Promise.race([promise, limit.promise]);
  } finally {
    limit.cancel();
  }
}

/**
 * client: { query(doc, variables) -> data, subscribe(doc, variables, { next, error }) -> { ready (a promise
 * settled once the server acknowledged it), unsubscribe() }, settle() -> a promise settled once every live
 * subscription is acknowledged on the current socket }
 */
export async function run(client, args, say = console.log) {
  const { me } = await client.query(ME);
  say(`signed in as ${me.username} (id ${me.id})`);

  const { createBasket: basket } = await client.query(CREATE, { input: condor() });
  say(`created basket ${basket.id}: ${basket.name}, ${basket.status}`);

  const orders = new Map(); // id -> { status, quantity, filled, fills }
  const seenEvents = new Set();
  let pnlSeen = 0;
  let expected = null; // the execution's order ids, once it answered
  let finished;
  const allDone = new Promise((resolve) => { finished = resolve; });
  const check = () => {
    if (!expected || pnlSeen === 0) return;
    const done = expected.every((id) => {
      const o = orders.get(id);
      // COMPLETE means fully filled: a COMPLETE update may arrive before the one carrying its fill
      return o && TERMINAL.has(o.status) && o.fills === o.filled && (o.status !== 'COMPLETE' || o.filled === o.quantity);
    });
    if (done) finished();
  };
  const order = (id) => {
    if (!orders.has(id)) orders.set(id, { status: 'PENDING', quantity: 0, filled: 0, fills: 0 });
    return orders.get(id);
  };
  const failed = (what) => (error) => { say(`subscription ${what} failed: ${describe(error)}`); };
  const vars = { ownerId: me.id, basketId: basket.id };
  const subscriptions = [
    client.subscribe(ON_ORDER_UPDATE, vars, {
      next: ({ onOrderUpdate: e }) => {
        if (seenEvents.has(e.eventId)) return;
        seenEvents.add(e.eventId);
        const o = order(e.order.id);
        Object.assign(o, { status: e.order.status, quantity: e.order.quantity, filled: e.order.filledQuantity });
        say(`order ${e.order.id} ${e.order.status} filled ${e.order.filledQuantity}/${e.order.quantity}`);
        check();
      },
      error: failed('onOrderUpdate'),
    }),
    client.subscribe(ON_FILL, vars, {
      next: ({ onFill: e }) => {
        if (seenEvents.has(e.eventId)) return;
        seenEvents.add(e.eventId);
        order(e.fill.orderId).fills += e.fill.quantity;
        say(`fill ${e.fill.tradeId} order ${e.fill.orderId} ${e.fill.quantity} @ ${e.fill.price}`);
        check();
      },
      error: failed('onFill'),
    }),
    client.subscribe(ON_PNL, vars, {
      next: ({ onPnl: e }) => {
        pnlSeen += 1;
        if (pnlSeen <= 3) say(`pnl ${e.pnl} at ${e.asOf}`);
        check();
      },
      error: failed('onPnl'),
    }),
  ];
  await within(args.timeoutMs, 'the subscriptions to be acknowledged', Promise.all(subscriptions.map((s) => s.ready)));
  await client.settle();
  say('subscribed: onOrderUpdate, onFill, onPnl');

  // Someone else's ownerId is refused for that subscription only; the ones above carry on (Amplify closes its
  // socket on an auth error by design and re-subscribes them: settle() waits for that)
  if (args['probe-owner']) {
    const refused = new Promise((resolve) => {
      client.subscribe(ON_ORDER_UPDATE, { ownerId: args['probe-owner'] }, {
        next: () => resolve('accepted'),
        error: (error) => resolve(describe(error)),
      });
    });
    say(`probe onOrderUpdate(ownerId: ${args['probe-owner']}): ${await within(args.timeoutMs, 'the probe', refused)}`);
    await client.settle();
    say('still subscribed: onOrderUpdate, onFill, onPnl');
  }

  const { executeBasket: execution } = await client.query(EXECUTE, { id: basket.id, rid: `js-${Date.now()}` });
  for (const o of execution.orders) order(o.id).quantity = o.quantity;
  expected = execution.orders.map((o) => o.id);
  say(`executed: basket ${execution.basket.status}, ${execution.orders.length} orders (${execution.orders.map((o) => o.id).join(', ')})`);

  check();
  await within(args.timeoutMs, 'every order to finish and its fills to arrive', allDone);
  const complete = [...orders.values()].filter((o) => o.status === 'COMPLETE').length;
  const fills = [...orders.values()].reduce((n, o) => n + o.fills, 0);
  say(`done: ${complete}/${orders.size} orders COMPLETE, ${fills} units filled, ${pnlSeen} P&L update(s)`);
  for (const subscription of subscriptions) subscription.unsubscribe();
}
