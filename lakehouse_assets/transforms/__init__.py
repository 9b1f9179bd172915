"""Business logic of the lakehouse as plain DataFrame -> DataFrame functions.

No table I/O, no Dagster, no wall clock: the assets read the inputs, call these, write outputs.
"""
