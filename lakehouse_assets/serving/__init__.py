"""``lakehouse-serve``: the gold and ML tables over REST and GraphQL, without Spark.

- ``config``: settings (lakehouse root, API keys, page sizes) from the command line and env;
- ``snapshots``: consistent reads, one Delta version per table and request (delta-rs -> DuckDB);
- ``pagination``: keyset pagination with opaque cursors tied to the table versions;
- ``errors``: the one JSON error model;
- ``queries``: the SQL behind every endpoint, with bound parameters only;
- ``graphql``: the products schema (Strawberry) with depth and cost limits;
- ``app``: the FastAPI application; ``cli``: the command.

Nothing here imports PySpark or Dagster: the service starts in a second and needs no JVM.
"""
