"""Accounts: users, sessions and what guards them (rate limits in ``limits``)."""
