"""Calls and their legs: the call model fed by the AMI, the ordered ingest
pipeline, reconciliation with Asterisk (its channels and CEL), the call records
and their API."""
