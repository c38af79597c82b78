"""Glue Spark job scripts and the plain PySpark transformations they wrap.

The ``*_job.py`` modules are the Glue entry scripts: they parse arguments and read the
catalog, then call the DataFrame functions in the other modules, which run unchanged
under a local ``pyspark`` session in the tests.
"""
