"""Discussion on paper pages: comments, their moderation and the notifications they cause."""
