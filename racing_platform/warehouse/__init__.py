"""DuckDB storage: the platform's tables, written one (date, venue) cell at a time in a transaction."""
