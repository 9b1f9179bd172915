"""Each table is declared once (lakehouse_assets.tables): its asset's description, column
descriptions and write metadata and its key rule come from that declaration, and every table of
the lakehouse is declared."""

import pytest

from lakehouse_assets.checks.table_rules import ALL_RULES, QualityRule
from lakehouse_assets.columns import COLUMN_DESCRIPTIONS
from lakehouse_assets.definitions import defs
from lakehouse_assets.tables import (
    LANDING_DAYS,
    LATEST_VERSION,
    REPLACE,
    TABLES,
    UPSERT,
    TableSpec,
    table_spec,
)

MERGE_FIELDS = ("merge_keys", "partition_expr", "key_scope", "cluster_by", "remove_when")


def test_every_table_is_declared_once():
    assert set(TABLES) == set(COLUMN_DESCRIPTIONS)
    assert all(spec.keys and spec.description.strip() for spec in TABLES.values())
    assert all(spec.columns == COLUMN_DESCRIPTIONS[name] for name, spec in TABLES.items())


def test_assets_take_what_they_say_and_write_from_the_declaration():
    tables = {
        ".".join(spec.key.path): spec for spec in defs.resolve_all_asset_specs()
        if ".".join(spec.key.path) in TABLES
    }
    assert set(tables) == set(TABLES)  # every declared table is an asset
    for name, asset in tables.items():
        written = {k: asset.metadata[k] for k in MERGE_FIELDS if k in asset.metadata}
        assert written == TABLES[name].write_metadata, name
        assert asset.description == TABLES[name].description, name
        assert asset.metadata["column_descriptions"] == TABLES[name].columns, name


def test_key_rule_per_audited_table_in_its_write_scope():
    key_rules = {r.table: r for r in ALL_RULES if r.name == "keys_unique_not_null"}
    assert set(key_rules) == {n for n, s in TABLES.items() if s.audit_keys}
    assert not any(n.startswith("bronze.") for n in key_rules)  # audited per file instead
    for name, rule in key_rules.items():
        spec = TABLES[name]
        assert rule.description == (
            f"Key {list(spec.keys)} is never null and never duplicated ({spec.key_scope} scope)."
        ), name
    assert key_rules["silver.stg_orders"].description.endswith("(window_keys scope).")
    assert key_rules["silver.quarantine_orders"].description.endswith("(window scope).")
    assert key_rules["gold.fct_daily_sales"].description.endswith("(written_keys scope).")
    assert key_rules["gold.fct_customer_metrics"].description.endswith("(table scope).")


def test_write_modes_as_merge_metadata():
    keys = ("a", "b")
    assert TableSpec("x.t", keys).write_metadata == {}
    assert TableSpec("x.t", keys, UPSERT).write_metadata == {
        "merge_keys": ["a", "b"], "cluster_by": ["a", "b"],
    }
    assert TableSpec("x.t", keys, UPSERT, remove_when="s.n = 0").write_metadata == {
        "merge_keys": ["a", "b"], "cluster_by": ["a", "b"], "remove_when": "s.n = 0",
    }
    assert TableSpec("x.t", keys, LANDING_DAYS).write_metadata == {
        "merge_keys": ["a", "b"], "partition_expr": "_landing_date",
        "cluster_by": ["_landing_date", "a", "b"],
    }
    assert TableSpec("x.t", keys, LATEST_VERSION).write_metadata == {
        "merge_keys": ["a", "b"], "partition_expr": "_landing_date", "key_scope": "table",
        "cluster_by": ["_landing_date", "a", "b"],
    }
    assert [TableSpec("x.t", keys, m).key_scope
            for m in (REPLACE, UPSERT, LANDING_DAYS, LATEST_VERSION)] == [
        "table", "written_keys", "window", "window_keys",
    ]


def test_an_undeclared_table_says_where_to_declare_it():
    with pytest.raises(KeyError, match="not declared in lakehouse_assets/tables.py"):
        table_spec("gold.no_such_table")


def test_a_counted_rule_about_every_row_needs_a_table_its_key_rule_reads_whole():
    def counted(df, t):
        return {}, None

    # silver.stg_orders' key rule reads only the keys a run wrote: a rule counted with it
    # about every row would silently check part of the table.
    with pytest.raises(ValueError, match="landed_only"):
        QualityRule("silver.stg_orders", "every_row", None, "", counted=counted)
    assert QualityRule("silver.stg_orders", "landed", None, "", counted=counted,
                       landed_only=True).landed_only
    assert QualityRule("gold.fct_daily_sales", "every_row", None, "", counted=counted).counted
    with pytest.raises(ValueError, match="exactly one"):
        QualityRule("gold.fct_daily_sales", "nothing", None, "")
