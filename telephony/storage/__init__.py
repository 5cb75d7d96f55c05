"""Call records in the database: the tables, the batched writer, reading them back."""
