"""Real-time fraud detection: the platform's reference product (issue 10).

Built only from the platform's public pieces: ``constructs_lib`` for infrastructure and the
runtime clients in ``lambdas.feature_store`` / ``lambdas.feature_pipelines``.
"""
