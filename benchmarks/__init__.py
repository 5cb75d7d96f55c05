"""Benchmarks: they print figures; they are never timed assertions in the test suite."""
