"""Model serving: prediction cache keys, request validation, endpoint-config naming, prediction API handler."""
