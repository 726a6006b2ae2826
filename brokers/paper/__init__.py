"""A Kite-compatible paper exchange: an HTTP simulator driven by the official kiteconnect client."""
