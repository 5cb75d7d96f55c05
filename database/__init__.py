"""The database every feature keeps its tables in: engines and sessions, the
declarative base, column types, and the one Alembic history of the schema."""
