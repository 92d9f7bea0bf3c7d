"""People: accounts, sessions and log-in with GitHub and ORCID."""
