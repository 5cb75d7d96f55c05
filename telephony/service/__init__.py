"""The asyncio side of calls: the ordered ingest pipeline (AMI events → call
model → records and the live feed) and reconciliation with Asterisk's own CEL."""
