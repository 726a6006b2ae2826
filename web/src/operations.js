// The dashboard's GraphQL operations (the same documents work against AppSync).

const ORDER = `id basketId strategyId tradingsymbol exchange side quantity filledQuantity pendingQuantity
  averagePrice price triggerPrice orderType product brokerOrderId status statusMessage version createdAt updatedAt`;
const POSITION = "basketId strategyId exchange tradingsymbol product netQuantity buyQuantity sellQuantity buyValue sellValue";
const POSITION_PNL = `lastPrice pnl realised unrealised position { ${POSITION} }`;

const LEG_RISK = `legId strategyId tradingsymbol side entry stopLoss target trailingPeak movedToCost lastPrice
  distanceToStopLoss distanceToTarget triggered triggeredAt reEntriesUsed reEntriesLeft`;

const FILL = "tradeId orderId basketId exchange tradingsymbol side quantity price filledAt recordedAt";

export const BASKETS = "query Baskets { baskets(limit: 50) { items { id name status statusMessage version updatedAt } } }";

export const BASKET = `query Basket($id: ID!) {
  basket(id: $id) {
    id name status statusMessage version
    strategies { id name legs { id exchange tradingsymbol side lots } }
    risk { maxLoss target }
    schedule { entryAt exitAt }
    orders { ${ORDER} }
    positions { ${POSITION} }
  }
  pnl(basketId: $id) { basketId pnl realised unrealised asOf positions { ${POSITION_PNL} } }
  riskState(basketId: $id) { basketId legs { ${LEG_RISK} } }
}`;

export const CREATE_BASKET = `mutation CreateBasket($input: CreateBasketInput!) {
  createBasket(input: $input) { id name status version }
}`;

export const EXECUTE_BASKET = `mutation ExecuteBasket($id: ID!, $rid: String!) {
  executeBasket(basketId: $id, clientRequestId: $rid) { basket { id status statusMessage } orders { ${ORDER} } }
}`;

export const EXIT_BASKET = `mutation ExitBasket($id: ID!, $rid: String!) {
  exitBasket(basketId: $id, clientRequestId: $rid) { basket { id status statusMessage } orders { ${ORDER} } }
}`;

export const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER} } }`;

export const ON_ORDER_UPDATE = `subscription OnOrderUpdate($ownerId: ID!) {
  onOrderUpdate(ownerId: $ownerId) { eventId basketId order { ${ORDER} } }
}`;

export const ON_FILL = `subscription OnFill($ownerId: ID!) {
  onFill(ownerId: $ownerId) { eventId basketId fill { ${FILL} } }
}`;

export const ON_BASKET_UPDATE = `subscription OnBasketUpdate($ownerId: ID!) {
  onBasketUpdate(ownerId: $ownerId) { eventId basketId status statusMessage version updatedAt }
}`;

export const ON_PNL = `subscription OnPnl($ownerId: ID!) {
  onPnl(ownerId: $ownerId) { eventId basketId pnl realised unrealised asOf positions { ${POSITION_PNL} } }
}`;

export const ON_RISK_STATE = `subscription OnRiskState($ownerId: ID!) {
  onRiskState(ownerId: $ownerId) { eventId basketId asOf legs { ${LEG_RISK} } }
}`;

export const FILLS = `query Fills($id: ID!, $next: String) {
  fills(basketId: $id, limit: 100, nextToken: $next) { items { ${FILL} } nextToken }
}`;

export const UPDATE_BASKET = `mutation UpdateBasket($input: UpdateBasketInput!) {
  updateBasket(input: $input) { id version risk { maxLoss target } schedule { entryAt exitAt } }
}`;

/** One query for the lot sizes of `instruments` ([{exchange, tradingsymbol}]): an aliased `instruments` each. */
export function lotSizes(instruments) {
  const args = instruments.map((_, i) => `$s${i}: String!, $e${i}: String`).join(", ");
  const fields = instruments
    .map((_, i) => `i${i}: instruments(search: $s${i}, exchange: $e${i}, limit: 5) { exchange tradingsymbol lotSize }`)
    .join("\n  ");
  const variables = {};
  instruments.forEach((instrument, i) => {
    variables[`s${i}`] = instrument.tradingsymbol;
    variables[`e${i}`] = instrument.exchange;
  });
  return { query: `query LotSizes(${args}) {\n  ${fields}\n}`, variables };
}

/** One query for the P&L of several baskets: an aliased `pnl` each. */
export function basketsPnl(ids) {
  const args = ids.map((_, i) => `$b${i}: ID!`).join(", ");
  const fields = ids.map((_, i) => `p${i}: pnl(basketId: $b${i}) { basketId pnl }`).join("\n  ");
  const variables = Object.fromEntries(ids.map((id, i) => [`b${i}`, id]));
  return { query: `query BasketsPnl(${args}) {\n  ${fields}\n}`, variables };
}
