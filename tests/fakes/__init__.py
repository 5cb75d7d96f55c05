"""Test doubles shared by the test suites (fake AMI server, recording sink)."""
