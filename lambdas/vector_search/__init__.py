"""Vector search: k-NN index specs, chunking, bulk indexing, search with exact re-ranking."""
