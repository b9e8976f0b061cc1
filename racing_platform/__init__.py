"""racing_platform: a Dagster data platform for Australian thoroughbred racing."""
