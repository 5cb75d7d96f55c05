"""Accounts at run time: hashing off the event loop, signing in and out, disabling."""
