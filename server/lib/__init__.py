"""Small helpers of the server with one job each (environment, keys, text, database URL)."""
