"""What people do with papers: authorship claims (votes and submissions come beside them)."""
