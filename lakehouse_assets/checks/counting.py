"""A table's rules counted in one aggregation: its key, and every condition its rules count.

A *counted* rule names conditions over its table's rows (a Column per name, TRUE = the row
breaks it). ``count`` evaluates the key (never null, never duplicated) and the conditions of
all the table's counted rules in ONE Spark query: the rows are grouped by the key, each group
counts its rows and their violations, and one more aggregation sums the groups. Each rule
then reads its counts; offending keys are fetched by one more limited query, and only for a
rule that failed (``Counts.sample``).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.checks.results import RuleResult
from lakehouse_assets.checks.rules import Thresholds


def any_of(conditions: list[Column]) -> Column:
    return reduce(lambda a, b: a | b, conditions, F.lit(False))


def sample_keys(df: DataFrame, keys: list[str], n: int) -> list:
    """Up to n offending keys (a value for one key column, a dict for several), sorted."""
    rows = df.select(*keys).distinct().orderBy(*keys).limit(n).collect()
    return [r[0] if len(keys) == 1 else r.asDict() for r in rows]


# The rule every table's key is checked by.
KEY_RULE = "keys_unique_not_null"


@dataclass(frozen=True)
class KeyCounts:
    """The key over every row counted: rows, rows with a null key part, duplicated keys."""

    keys: list[str]
    rows: int
    null_rows: int
    duplicate_keys: int
    duplicate_rows: int
    per_key: DataFrame  # one row per key value: n (rows), null_key (a key part is null)

    def sample(self, n: int, null_keys: bool = True) -> list:
        """Up to n duplicated keys, and keys with a null part unless ``null_keys`` is off."""
        offending = "n > 1 OR null_key" if null_keys else "n > 1 AND NOT null_key"
        return sample_keys(self.per_key.where(offending), self.keys, n)


@dataclass(frozen=True)
class Counts:
    """One rule's conditions over the rows it checks."""

    rows: int  # rows checked
    failed: int  # rows breaking at least one condition
    by_condition: dict[str, int]
    offending: DataFrame  # the rows checked that break at least one condition

    def sample(self, keys: list[str], n: int) -> list:
        return sample_keys(self.offending, keys, n) if self.failed else []


def count(
    df: DataFrame,
    keys: list[str],
    rules: Mapping[str, Mapping[str, Column]] | None = None,
    scopes: Mapping[str, Column] | None = None,
) -> tuple[KeyCounts, dict[str, Counts]]:
    """The key's counts over every row of ``df``, and for each rule (name -> its conditions)
    its counts over the rows it checks: every row, or those where ``scopes[rule]`` holds.
    One Spark query."""
    rules, scopes = rules or {}, scopes or {}
    null_key = any_of([F.col(k).isNull() for k in keys])
    scope = {r: F.coalesce(scopes[r], F.lit(False)) if r in scopes else F.lit(True) for r in rules}
    violated = {
        r: {c: scope[r] & F.coalesce(cond, F.lit(False)) for c, cond in conditions.items()}
        for r, conditions in rules.items()
    }
    # Per key group, then summed: aliases r<i> (rows checked), a<i> (rows breaking any
    # condition), c<i>_<j> (rows breaking condition j) of rule i.
    per_group, totals = [], []
    for i, (r, conditions) in enumerate(violated.items()):
        parts = [(f"r{i}", scope[r]), (f"a{i}", any_of(list(conditions.values())))]
        parts += [(f"c{i}_{j}", cond) for j, cond in enumerate(conditions.values())]
        per_group += [F.count_if(cond).alias(alias) for alias, cond in parts]
        totals += [F.coalesce(F.sum(alias), F.lit(0)).alias(alias) for alias, _ in parts]
    per_key = df.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("n"), F.max(null_key).alias("null_key"), *per_group
    )
    duplicate = (F.col("n") > 1) & ~F.col("null_key")
    stats = per_key.agg(
        F.coalesce(F.sum("n"), F.lit(0)).alias("rows"),
        F.coalesce(F.sum(F.when(F.col("null_key"), F.col("n"))), F.lit(0)).alias("null_rows"),
        F.count_if(duplicate).alias("duplicate_keys"),
        F.coalesce(F.sum(F.when(duplicate, F.col("n"))), F.lit(0)).alias("duplicate_rows"),
        *totals,
    ).first()
    key_counts = KeyCounts(
        list(keys), int(stats["rows"]), int(stats["null_rows"]), int(stats["duplicate_keys"]),
        int(stats["duplicate_rows"]), per_key.select(*keys, "n", "null_key"),
    )
    counts = {
        r: Counts(
            rows=int(stats[f"r{i}"]),
            failed=int(stats[f"a{i}"]),
            by_condition={c: int(stats[f"c{i}_{j}"]) for j, c in enumerate(conditions)},
            offending=df.where(any_of(list(violated[r].values()))),
        )
        for i, (r, conditions) in enumerate(rules.items())
    }
    return key_counts, counts


# A counted rule: given the frame it checks and the thresholds, the conditions it counts and
# how it judges their counts (its own, and the key's) into a result.
Judge = Callable[[Counts, KeyCounts], RuleResult]
CountedRule = Callable[[DataFrame, Thresholds], tuple[dict[str, Column], Judge]]


def evaluate_alone(rule: CountedRule, df: DataFrame, keys: list[str], t: Thresholds) -> RuleResult:
    """One counted rule on ``df`` in an aggregation of its own (keys: ``df``'s key)."""
    conditions, judge = rule(df, t)
    key_counts, counts = count(df, keys, {"rule": conditions})
    return judge(counts["rule"], key_counts)
