"""The asyncio shell around the transfer core: takes AMI events and API
requests, runs the machine, sends its commands, saves and publishes it."""

from transfer.service.transfers import TransferService

__all__ = ["TransferService"]
