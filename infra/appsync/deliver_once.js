// Publish pipeline, step 1 (DynamoDB data source): record the event id once, as the local stack's
// publish resolver does (store.deliveries.DynamoDeliveries): a retried stream batch that publishes
// the same event again gets AlreadyDelivered, which the stream handler treats as done.
import { util } from '@aws-appsync/utils';

// store.spec.DELIVERY_TTL_SECONDS (tests/infra/test_appsync_js.py holds the two equal): the stream's maximum
// record age (an hour, the event source mapping's MaximumRecordAgeInSeconds) and a margin of 15 minutes, so a
// marker outlives every redelivery of the record that published its event.
const DELIVERY_TTL_SECONDS = 75 * 60;

export function request(ctx) {
  const eventId = ctx.args.eventId;
  if (!eventId || eventId.length > 200) {
    util.error('eventId must be 1 to 200 characters', 'ValidationError');
  }
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ PK: `EVENT#${eventId}`, SK: '#EVENT' }),
    attributeValues: util.dynamodb.toMapValues({
      type: 'Delivery',
      expiresAt: util.time.nowEpochSeconds() + DELIVERY_TTL_SECONDS,
    }),
    condition: { expression: 'attribute_not_exists(PK)' },
  };
}

export function response(ctx) {
  if (ctx.error) {
    if (ctx.error.type === 'DynamoDB:ConditionalCheckFailedException') {
      util.error(`event ${ctx.args.eventId} was already delivered`, 'AlreadyDelivered');
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return true;
}
