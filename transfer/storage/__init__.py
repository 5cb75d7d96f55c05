"""Transfers in the database: the tables, the row mapping, saves that survive a hiccup."""
