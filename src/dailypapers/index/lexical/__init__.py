"""Lexical half of the index: a tantivy BM25 index (``index``) with its schema and analyzers
(``schema``), the query parser (``query``) and the highlighted snippets (``snippet``)."""
