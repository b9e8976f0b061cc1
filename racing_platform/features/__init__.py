"""Point-in-time runner features: form lines per day, and each cell's card joined to earlier form."""
