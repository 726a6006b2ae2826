"""Finvasia Shoonya (Noren OMS) behind the `trading.ports.Broker` port, on the official `NorenRestApiPy` SDK."""
