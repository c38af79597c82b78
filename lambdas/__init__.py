"""Lambda code of the ML platform: pure cores (no AWS calls) and thin handlers, one package per domain."""
