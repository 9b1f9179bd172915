"""CLI: python -m lakehouse_assets.datagen --out DIR --seed 42 --order-items 100000 [--profile retail] [...] (console script lakehouse-datagen)."""

from __future__ import annotations

import argparse
import json
import sys

from .generator import PROFILES, generate_landing_zone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse-datagen", description="Write a synthetic e-commerce landing zone.")
    parser.add_argument("--out", required=True, help="landing root to write into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--order-items", type=int, default=100_000, help="exact number of regular order items (retail adds cancellation and fee lines)")
    parser.add_argument("--start", default="2024-01-01", help="first landing date (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--defect-rate", type=float, default=0.0, help="share of rows/files to damage (0 = clean)")
    parser.add_argument("--profile", choices=PROFILES, default="clean",
                        help="clean, or retail: guest orders, cancellations, fee lines, closed days, split files, ... (see datagen.generator)")
    args = parser.parse_args(argv)
    summary = generate_landing_zone(args.out, seed=args.seed, order_items=args.order_items, start=args.start,
                                    days=args.days, defect_rate=args.defect_rate, profile=args.profile)
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
