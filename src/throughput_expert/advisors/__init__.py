"""advisors."""
