"""The embedded DynamoDB: moto with DynamoDB's per-item atomicity, its speed-ups, a journal of applied writes, TTL."""
