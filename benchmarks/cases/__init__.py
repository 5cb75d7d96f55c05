"""Cases benchmark: the case API under load, and the supervision views at 100,000 cases.

Run it as ``python -m benchmarks.cases --help``; figures are in RESULTS.md.
"""
