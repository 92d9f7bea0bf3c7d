"""The discussion around papers: comments, moderation, notifications, collections and the
papers members marked "not interested" (the rules; their SQL is in ``store/``)."""
