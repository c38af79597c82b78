"""Reusable L3 constructs of the ML platform, importable by product teams.

Each construct takes keyword-only props with production-safe defaults, exposes the
resources it creates, and offers `grant_*` / `metric_*` methods the way aws-cdk-lib does.
None of them knows about the platform config file.
"""
