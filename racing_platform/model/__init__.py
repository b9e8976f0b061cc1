"""The win model: CatBoost on point-in-time features, versioned by content hash and training cutoff."""
