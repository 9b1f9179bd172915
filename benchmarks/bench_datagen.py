"""Generator throughput: python benchmarks/bench_datagen.py [--with-10m] [--defect-rate R].

Runs generate_landing_zone at 100k and 1M order items (10M with --with-10m) into a temporary
directory and writes the results to benchmarks/out/datagen.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from lakehouse_assets.datagen import generate_landing_zone

OUT = Path(__file__).resolve().parent / "out" / "datagen.json"


def run(order_items: int, defect_rate: float) -> dict:
    target = Path(tempfile.mkdtemp(prefix="bench_datagen_"))
    try:
        t0 = time.perf_counter()
        summary = generate_landing_zone(target, seed=42, order_items=order_items, start="2024-01-01", days=365,
                                        defect_rate=defect_rate)
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(target, ignore_errors=True)
    total_rows = sum(summary["rows"].values())
    return {
        "order_items": order_items,
        "defect_rate": defect_rate,
        "seconds": round(seconds, 3),
        "order_items_per_s": round(order_items / seconds),
        "rows_per_s": round(total_rows / seconds),
        "rows": summary["rows"],
        "files_written": summary["files_written"],
        "mb_written": round(summary["bytes_written"] / 1e6, 1),
        "mb_per_s": round(summary["bytes_written"] / 1e6 / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--with-10m", action="store_true", help="also run 10 million order items")
    parser.add_argument("--defect-rate", type=float, default=0.0)
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.with_10m else [])
    results = []
    for n in sizes:
        r = run(n, args.defect_rate)
        results.append(r)
        print(f"{n:>11,} items: {r['seconds']:8.2f} s  {r['order_items_per_s']:>10,} items/s  "
              f"{r['rows_per_s']:>10,} rows/s (all datasets)  {r['mb_written']:8.1f} MB  {r['files_written']} files")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"python": platform.python_version(), "cpus": os.cpu_count(), "results": results}, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
