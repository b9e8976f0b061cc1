"""Prices: each runner's win probability, fair odds and the market's view, as card snapshots."""
