"""Peer implementations of the project's pipeline for the benchmark harness (issue 6).

* ``pyspark_script``: the plain single-script PySpark job (no Dagster), on the project's transforms;
* ``duckdb_pipeline``: the same silver-to-gold SQL on DuckDB, straight from the landing CSV files;
* ``gold_numbers``: read the gold/ML tables and compare two builds' numbers.
"""
