"""What an account may be and when a sign-in holds (pure)."""
