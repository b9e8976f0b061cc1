"""Race cards and results of a (date, venue) cell: raw responses, then parsed, contract-checked tables."""
