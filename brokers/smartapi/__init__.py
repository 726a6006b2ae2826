"""Angel One SmartAPI behind the `trading.ports.Broker` port, on the official `smartapi-python` SDK."""
