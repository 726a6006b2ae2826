"""The embedded DynamoDB: moto with DynamoDB's per-item atomicity, its speed-ups, and snapshots of its data."""
