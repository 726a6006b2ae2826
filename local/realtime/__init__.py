"""Subscriptions over WebSocket for the local AppSync: its fan-out, both real-time protocols and payload shaping."""
