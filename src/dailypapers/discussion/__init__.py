"""The discussion around papers: comments and their rendering with math (:mod:`.comments`,
:mod:`.render`), moderation and notifications, collections and the papers members marked "not
interested" (the rules; their SQL is in ``store/``)."""
