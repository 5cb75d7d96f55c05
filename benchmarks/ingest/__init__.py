"""Ingest benchmark: AMI bytes → full pipeline (legs committed) vs. panoramisk's raw parse.

Run it as ``python -m benchmarks.ingest --help``.
"""
