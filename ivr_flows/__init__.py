"""The citizen's way in: desk queues, operators' log-in and pause, the 12345
voice menu, and the prompts callers hear (see ivr_flows/README.md)."""
