"""Cases in the database: the tables, reading and writing cases, the roster's history."""
