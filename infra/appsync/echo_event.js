// Publish pipeline, step 2 (NONE data source): return the event, which AppSync fans out to the
// subscriptions listening to this mutation (@aws_subscribe). Only IAM callers reach it (@aws_iam).
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return { payload: null };
}

export function response(ctx) {
  const raw = ctx.args.payload;
  const body = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    util.error('payload must be a JSON object', 'ValidationError');
  }
  return { ...body, eventId: ctx.args.eventId, ownerId: ctx.args.ownerId, basketId: ctx.args.basketId };
}
