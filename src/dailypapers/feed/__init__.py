"""The daily feed: which papers a day, week or month shows and in what order."""
