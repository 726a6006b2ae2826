// Publish pipeline around deliver_once.js and echo_event.js: the last step's result is the event.
export function request(ctx) {
  return {};
}

export function response(ctx) {
  return ctx.prev.result;
}
