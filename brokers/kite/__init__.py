"""Zerodha Kite Connect adapter (Lambda-safe: stdlib, kiteconnect, requests and trading only)."""
