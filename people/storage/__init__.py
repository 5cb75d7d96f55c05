"""The users and sign_ins tables and their repository."""
