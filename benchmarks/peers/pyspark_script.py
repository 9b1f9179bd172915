"""The project's pipeline as the plain PySpark script a user would write without Dagster.

One SparkSession, the project's own transform functions (so a comparison with the Dagster
build measures orchestration, not different logic), every landing date of the four datasets
ingested at once, and every table written as Delta with a plain overwrite. It writes the same
tables as the Dagster assets of that pipeline, bronze's quarantine and ledger and silver's
quarantine included (a script that dropped them would lose records, and would be faster for
doing less):

    bronze/<dataset>, bronze/quarantine_<dataset>, bronze/ledger_<dataset>
      ->  silver/stg_*, silver/quarantine_*  ->  silver/int_*  ->  gold/*  ->  ml/ml_customer_features

Each table is read back from Delta before the next step uses it, as the original design's script and the
Dagster assets (through the Delta IO manager) do.

    python -m benchmarks.peers.pyspark_script --landing-root LANDING --lakehouse-root OUT
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import uuid
from typing import Any

from lakehouse_assets.landing import DATASETS, scan_landing_zone
from lakehouse_assets.resources.spark import build_spark_session
from lakehouse_assets.transforms import customers, intermediate, ml, products
from lakehouse_assets.transforms.bronze import PreviousIngestion, ingest_files
from lakehouse_assets.transforms.silver import ENTITY_SPECS, build_silver, rejected_parents


def run(landing_root: str, lakehouse_root: str, spark: Any = None) -> dict[str, float]:
    """Build every table under ``lakehouse_root``; seconds per table written, and in total.

    Keys: ``<layer>.<table>`` per table (from the end of the previous write to the end of its
    own, so parsing files and reading inputs count to the table that needs them),
    ``spark_session`` (0 when ``spark`` is given) and ``total`` (the whole call).
    """
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    if spark is None:
        spark = build_spark_session(app_name="pyspark_script")
    seconds["spark_session"] = time.perf_counter() - started
    clock = [time.perf_counter()]

    def write(df: Any, layer: str, table: str) -> Any:
        """Overwrite <lakehouse_root>/<layer>/<table> with df and return the table as read back."""
        path = f"{lakehouse_root}/{layer}/{table}"
        df.write.format("delta").mode("overwrite").save(path)
        now = time.perf_counter()
        seconds[f"{layer}.{table}"], clock[0] = now - clock[0], now
        return spark.read.format("delta").load(path)

    # Bronze: every file of every landing date, parsed by the project's ingestion.
    files = scan_landing_zone(landing_root).files
    run_id = f"pyspark_script-{uuid.uuid4()}"
    ingested_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    bronze = {}
    for dataset, spec in DATASETS.items():
        batch = ingest_files(
            spark,
            spec,
            [f for f in files if f.dataset == dataset],
            PreviousIngestion(bronze=None, quarantine=None, ledger=[]),
            run_id=run_id,
            ingested_at=ingested_at,
        )
        bronze[dataset] = write(batch.bronze, "bronze", dataset)
        write(batch.quarantine, "bronze", f"quarantine_{dataset}")
        write(batch.ledger, "bronze", f"ledger_{dataset}")

    # Silver: current version per key, and the records that fail its rules. Bronze is read
    # once for both, as the silver assets do.
    # Entities follow their parents (items after orders): a rejected order rejects its items.
    stg, rejected = {}, {}
    for entity, spec in ENTITY_SPECS.items():
        parents = rejected.get(spec.parent) if spec.parent else None
        silver, quarantine = build_silver(bronze[entity].persist(), spec, rejected_parents=parents)
        stg[entity] = write(silver, "silver", f"stg_{entity}")
        quarantined = write(quarantine, "silver", f"quarantine_{entity}")
        rejected[entity] = rejected_parents(stg[entity], quarantined, spec.key)
        bronze[entity].unpersist()

    # Intermediate.
    # The per-customer summary is computed from the completed orders, as the Dagster step
    # does (which writes int_customer_orders too, but it is not upstream of these tables).
    orders = intermediate.int_customer_orders(stg["orders"], stg["order_items"])
    summary = write(
        intermediate.customer_summary(orders), "silver", "int_customer_summary"
    )
    rfm = write(intermediate.int_customer_rfm(summary), "silver", "int_customer_rfm")
    product_metrics = write(
        intermediate.int_product_metrics(stg["products"], stg["order_items"], stg["orders"]),
        "silver", "int_product_metrics",
    )

    # Gold and ML features (module 5).
    metrics = write(
        customers.fct_customer_metrics(stg["customers"], rfm), "gold", "fct_customer_metrics"
    )
    write(customers.dim_customer_segments(metrics), "gold", "dim_customer_segments")
    write(products.fct_product_performance(product_metrics), "gold", "fct_product_performance")
    write(ml.ml_customer_features(metrics, summary), "ml", "ml_customer_features")

    seconds["total"] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing-root", required=True)
    parser.add_argument("--lakehouse-root", required=True)
    args = parser.parse_args()
    seconds = run(args.landing_root, args.lakehouse_root)
    print(json.dumps({k: round(v, 3) for k, v in seconds.items()}, indent=2))


if __name__ == "__main__":
    main()
