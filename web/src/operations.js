// The dashboard's GraphQL operations (the same documents work against AppSync).

const ORDER = `id basketId strategyId tradingsymbol exchange side quantity filledQuantity pendingQuantity
  averagePrice orderType status statusMessage version updatedAt`;
const POSITION = "basketId strategyId exchange tradingsymbol product netQuantity buyQuantity sellQuantity buyValue sellValue";
const POSITION_PNL = `lastPrice pnl realised unrealised position { ${POSITION} }`;

export const BASKETS = "query Baskets { baskets(limit: 50) { items { id name status statusMessage version updatedAt } } }";

export const BASKET = `query Basket($id: ID!) {
  basket(id: $id) {
    id name status statusMessage version
    strategies { id name legs { id exchange tradingsymbol side lots } }
    orders { ${ORDER} }
    positions { ${POSITION} }
  }
  pnl(basketId: $id) { basketId pnl realised unrealised positions { ${POSITION_PNL} } }
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
  onFill(ownerId: $ownerId) { eventId basketId fill { tradeId orderId tradingsymbol side quantity price filledAt } }
}`;

export const ON_BASKET_UPDATE = `subscription OnBasketUpdate($ownerId: ID!) {
  onBasketUpdate(ownerId: $ownerId) { eventId basketId status statusMessage version updatedAt }
}`;

export const ON_PNL = `subscription OnPnl($ownerId: ID!) {
  onPnl(ownerId: $ownerId) { eventId basketId pnl realised unrealised asOf positions { ${POSITION_PNL} } }
}`;
