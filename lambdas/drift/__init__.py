"""Data drift engine: mergeable profiles, drift statistics and a sample-size-aware decision rule.

Pure modules (numpy/scipy only): `profile`, `categorical`, `statistics`, `multiple_testing`,
`decision`, `serialization`, `report_html`, `jsonl`. Handlers: `handler`, `map_handler`.
"""
