"""Data drift engine: mergeable profiles, drift statistics and a sample-size-aware decision rule.

Pure (numpy): `numeric_profile`, `categorical_profile`, `dataset_profile`, `serialization`,
`data_capture`, `window_reader` (pyarrow for Parquet only). Pure (numpy + scipy):
`statistics`, `multiple_testing`, `decision`, `report_html`. I/O: `settings`, `aws_io`,
`run`, `scoring_run`. Handlers: `handler` (scheduled), `map_handler` (distributed run).
See docs/drift.md.
"""
