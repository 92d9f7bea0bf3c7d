"""Saved-search alerts: a member's search, run against each day's new papers, by email or a
private Atom feed (``matching`` finds, ``service`` saves and runs, ``sending`` mails)."""
