"""Spark start-up: clear errors instead of Java stack traces (each in a fresh process)."""

import os
import subprocess
import sys


def start_spark_in_fresh_process(tmp_path, **kwargs) -> str:
    """Try to start Spark in a new Python process; return the SparkStartupError message."""
    script = (
        "from lakehouse_assets.resources.spark import SparkStartupError, build_spark_session\n"
        "try:\n"
        f"    build_spark_session(**{kwargs!r})\n"
        "except SparkStartupError as exc:\n"
        "    print('MESSAGE:', exc)\n"
    )
    env = {**os.environ, "LAKEHOUSE_JAR_CACHE": str(tmp_path / "empty-cache")}
    env.pop("LAKEHOUSE_SPARK_JARS", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    messages = [line for line in out.stdout.splitlines() if line.startswith("MESSAGE:")]
    assert messages, f"no SparkStartupError; stdout={out.stdout!r} stderr={out.stderr[-2000:]!r}"
    return messages[0]


def test_missing_local_jars_fail_before_starting_a_jvm(tmp_path):
    message = start_spark_in_fresh_process(tmp_path, jars=str(tmp_path / "missing-delta.jar"))
    assert "LAKEHOUSE_SPARK_JARS names jar files that do not exist" in message
    assert "missing-delta.jar" in message


def test_unresolvable_delta_jars_give_one_clear_message(tmp_path):
    # Ivy settings without a resolver: the jars cannot come from anywhere, as on an offline
    # machine with an empty jar cache. The JVM really fails to start.
    settings = tmp_path / "ivysettings.xml"
    settings.write_text(
        '<ivysettings><settings defaultResolver="none"/>'
        '<resolvers><chain name="none"/></resolvers></ivysettings>'
    )
    message = start_spark_in_fresh_process(
        tmp_path, extra_conf={"spark.jars.ivySettings": str(settings)}
    )
    assert "Spark with Delta Lake could not start" in message
    assert "resolving io.delta:delta-spark_" in message
    assert "fetch_delta_jars.sh" in message and "LAKEHOUSE_SPARK_JARS" in message
    assert "\tat " not in message  # no Java stack trace
