"""BibTeX for a paper, in the form arXiv itself gives (``@misc`` with eprint fields).

A pure function of the stored record, used by the "Cite" box of the paper page and by
``/papers/{id}.bib``. Braces in titles are balanced or dropped so the entry always parses.
"""

from __future__ import annotations

import re
import unicodedata

from dailypapers.paper import PaperRecord

_STOP_WORDS = frozenset("a an the on of in for and to with from towards toward is are".split())


def _ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents folded: "Müller" -> "muller")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def cite_key(record: PaperRecord) -> str:
    """``lastname2025firstword``: the first author's last name, the year, the title's first word."""
    last_name = _ascii_word(record.authors[0].split()[-1]) if record.authors else ""
    year = str(record.submitted_at.year) if record.submitted_at else ""
    words = (_ascii_word(word) for word in record.title.split())
    first_word = next((word for word in words if word and word not in _STOP_WORDS), "")
    return (last_name + year + first_word) or record.arxiv_id.replace("/", "")


def _balanced(text: str) -> str:
    """``text`` with unbalanced braces removed (BibTeX rejects an entry with them)."""
    depth, kept = 0, []
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                continue
            depth -= 1
        kept.append(char)
    result = "".join(kept)
    while depth:  # drop the unmatched opening braces, from the last one back
        index = result.rindex("{")
        result = result[:index] + result[index + 1 :]
        depth -= 1
    return result


def bibtex(record: PaperRecord) -> str:
    """The BibTeX entry of ``record``."""
    fields = [
        ("title", _balanced(record.title)),
        ("author", " and ".join(_balanced(name) for name in record.authors)),
        ("year", str(record.submitted_at.year) if record.submitted_at else ""),
        ("eprint", record.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", record.primary_category or ""),
        ("doi", _balanced(record.doi or "")),
        ("url", f"https://arxiv.org/abs/{record.arxiv_id}"),
    ]
    body = "".join(f"      {name}={{{value}}},\n" for name, value in fields if value)
    return f"@misc{{{cite_key(record)},\n{body}}}\n"
