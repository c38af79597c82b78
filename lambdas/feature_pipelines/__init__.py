"""Feature pipelines: streaming window features (Kinesis) and batch/materialization jobs (Glue Spark)."""
