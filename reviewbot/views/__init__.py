"""Views: the answers people read (queues, standing, report, backtest, trends), from the store."""
