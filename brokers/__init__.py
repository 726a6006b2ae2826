"""Broker adapters behind the `trading.ports.Broker` port."""
