"""Performance harness of the lakehouse (issue 6); not tests. Run ``python -m benchmarks --help``.

- ``harness``   the command: sizes, workdir layout, scenarios, repetitions (parent process)
- ``measure``   one timed child process: wall time, peak RSS of its process tree, JVM starts
- ``scenario``  what a child process does (``python -m benchmarks.scenario OP SPEC RESULT``)
- ``report``    machine facts, the JSON and Markdown reports, publishing into BENCHMARKS.md
- ``step_cost`` profiling aid: Spark jobs and seconds per run, rule and IO manager method
"""
