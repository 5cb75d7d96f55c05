"""Call records: what happened on every call leg, kept in SQLite or PostgreSQL.

- `db`: engines and sessions; `migrate`: schema upgrades (Alembic).
- `models`: the tables; `types`: the UTC timestamp column type.
- `writer`: RecordWriter, which takes domain events without ever blocking and
  commits them in ordered batches (`batch` does the SQL, `apply` the rules).
- `repositories`: reading calls back; API tokens.
"""
