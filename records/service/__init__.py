"""The case service: opening and moving cases, the supervisor ladder, and the
link between calls and cases."""
