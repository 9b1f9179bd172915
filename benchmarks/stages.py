"""Where a run's steps spend Spark's task time: the stage data of Spark's status store.

The ``day_stages`` scenario runs the new day once more, untimed, in a session with Spark's UI
on; its REST API (``/api/v1/applications/<id>/jobs`` and ``/stages``) lists every job and
stage with its task time and rows read, shuffled and written. ``summarize`` assigns each job
to the Dagster step it started in (by time) and sums per step; the report shows, per step,
how much task time went to stages that read or shuffle many rows (history, not the day) and
the call sites that spent most.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections import defaultdict

# The UI (and its REST API) of the profiled session only; every job and stage of the run kept.
UI_CONF = {
    "spark.ui.enabled": "true",
    "spark.ui.port": "0",  # a free port
    "spark.ui.retainedJobs": "100000",
    "spark.ui.retainedStages": "100000",
    "spark.ui.retainedTasks": "1000",
}
# A stage reading or shuffling more rows than this is about the history rather than the day
# at the benchmark sizes (a new day at M brings about 3,000 order items).
MANY_ROWS = 100_000
TOP_SITES = 3


def fetch(session) -> tuple[list[dict], list[dict]]:
    """Every job and stage of the session's application, from its UI's REST API."""
    sc = session.sparkContext
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    with urllib.request.urlopen(f"{base}/jobs") as jobs, urllib.request.urlopen(
        f"{base}/stages"
    ) as stages:
        return json.load(jobs), json.load(stages)


def _epoch(text: str) -> float:
    """Spark's REST time stamps: 2026-12-08T00:04:49.123GMT."""
    return dt.datetime.strptime(text.removesuffix("GMT"), "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=dt.timezone.utc
    ).timestamp()


def summarize(jobs: list[dict], stages: list[dict], steps: dict[str, tuple[float, float]]) -> dict:
    """Per step (name -> (start, end) epoch seconds): Spark jobs, stages, task seconds, task
    seconds of stages over ``MANY_ROWS`` rows, and the call sites with most task time."""
    step_of_job = {}
    for job in jobs:
        submitted = _epoch(job["submissionTime"])
        for step, (start, end) in steps.items():
            if start <= submitted <= end:
                step_of_job[job["jobId"]] = step
                break
    job_of_stage = {s: job["jobId"] for job in jobs for s in job["stageIds"]}
    out = {
        step: {"jobs": 0, "stages": 0, "task_s": 0.0, "many_rows_task_s": 0.0, "sites": {}}
        for step in steps
    }
    for job_id, step in step_of_job.items():
        out[step]["jobs"] += 1
    sites: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    for stage in stages:
        step = step_of_job.get(job_of_stage.get(stage["stageId"]))
        if step is None or stage.get("status") != "COMPLETE":
            continue
        seconds = stage["executorRunTime"] / 1000
        rows = max(stage["inputRecords"], stage["shuffleReadRecords"],
                   stage["shuffleWriteRecords"])
        entry = out[step]
        entry["stages"] += 1
        entry["task_s"] += seconds
        if rows > MANY_ROWS:
            entry["many_rows_task_s"] += seconds
        site = sites[step][stage["name"]]
        site[0] += 1
        site[1] += seconds
    for step, entry in out.items():
        top = sorted(sites[step].items(), key=lambda kv: -kv[1][1])[:TOP_SITES]
        entry["sites"] = {name: {"stages": n, "task_s": round(s, 2)} for name, (n, s) in top}
        entry["task_s"] = round(entry["task_s"], 2)
        entry["many_rows_task_s"] = round(entry["many_rows_task_s"], 2)
    return out
