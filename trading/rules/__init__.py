"""Market and risk rules as pure functions; import the module you need (calendar, pre_trade, limits)."""
