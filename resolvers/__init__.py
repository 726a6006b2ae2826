"""The AppSync Lambda entrypoint: one powertools AppSyncResolver, one Router per area."""
