"""The call model: AMI events in, domain events out. Pure: no asyncio, no I/O, no clock."""
