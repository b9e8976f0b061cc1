"""A racing.com-compatible simulator: a seeded racing world served over GraphQL with a settable clock."""
