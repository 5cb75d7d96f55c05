"""The desks' records: every wait in a queue and every operator's states."""
