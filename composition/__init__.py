"""The one composition root: settings parsed once, and the builders every entrypoint and the local stack use."""
