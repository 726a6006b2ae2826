"""The domain's use cases, one module per job; each takes only the ports it uses and the caller's id."""
