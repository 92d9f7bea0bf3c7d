"""The discussion around papers: comments (:mod:`.comments`), their rendering with math
(:mod:`.render`)."""
