"""Typo neighbours of a query word among the words an index holds, found in Python sets.

The lexical query matches a word that (nearly) no paper contains against the indexed words one
edit away (see ``query``). tantivy's fuzzy term query does that with a Levenshtein automaton
run over a field's whole term dictionary for every query: 0.4 to 0.9 ms a field at one edit,
2 to 4 ms at two, so a query with a typo cost about 8 ms of CPU against 1 ms without
(BENCHMARKS.md "Search CPU"). Here the index's words are read once into sets
(:class:`Vocabulary`, about 200,000 words for 75,000 papers) and a word's neighbours are its
one-edit variants that are in the set (Norvig's spelling corrector): about 50 characters times
the word's length of candidate strings checked by one set intersection in C, tens of
microseconds. The neighbours are then searched as ordinary terms.

One edit is an insertion, a deletion, a substitution or the swap of two neighbouring letters
(the optimal string alignment distance; tantivy's fuzzy queries count a swap as one edit too).
A substitution or insertion uses the letters of the vocabulary's words (those in at least a
share :data:`ALPHABET_MIN_SHARE` of them) and of the word itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Final

import tantivy

# A character in fewer of the vocabulary's words than this share is not tried as a
# substitution or insertion (a stray symbol of one paper would multiply the candidates for
# nothing). For 75,000 papers: 37 characters, a to z, 0 to 9 and one Greek letter.
ALPHABET_MIN_SHARE: Final = 1 / 5000


def one_edit(word: str, alphabet: str) -> set[str]:
    """``word`` and every string one edit from it with letters of ``alphabet`` (and its own)."""
    return set(one_edit_candidates(word, alphabet))


def one_edit_candidates(word: str, alphabet: str) -> list[str]:
    """:func:`one_edit` as a list, some strings more than once: a set intersection takes it
    without the strings being put into a set first, which was a third of a word's cost (180
    against 270 µs for a word of 13 letters in a vocabulary of 200,000)."""
    letters = sorted(set(alphabet) | set(word))
    found = [word]
    for cut in range(len(word) + 1):
        head, tail = word[:cut], word[cut:]
        found += [f"{head}{c}{tail}" for c in letters]  # insertions
        if tail:
            rest = tail[1:]
            found.append(head + rest)  # the deletion
            found += [f"{head}{c}{rest}" for c in letters]  # substitutions
            if rest:
                found.append(head + rest[0] + tail[0] + rest[1:])  # the swap
    return found


def alphabet_of(words: Collection[str], min_share: float = ALPHABET_MIN_SHARE) -> str:
    """The characters found in at least a share ``min_share`` of ``words``, sorted."""
    counts: Counter[str] = Counter()
    for word in words:
        counts.update(set(word))
    least = min_share * len(words)
    return "".join(sorted(c for c, n in counts.items() if n >= least))


# Words whose neighbours a vocabulary keeps (a few hundred bytes each).
NEAR_MEMO_SIZE: Final = 4096


@dataclass(frozen=True)
class WordSet:
    """The distinct words of some fields, and the letters a typo is corrected with."""

    words: frozenset[str]
    alphabet: str
    # Words asked for already and their neighbours: a search page asks twice for each typo
    # (its query, then its snippets), 0.2 to 0.4 ms each for a long word. Emptied when full;
    # an index refresh reads a new vocabulary, and with it a new memo.
    _near: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, words: Iterable[str]) -> WordSet:
        found = frozenset(words)
        return cls(found, alphabet_of(found))

    def near(self, word: str) -> list[str]:
        """The words of the set at most one edit from ``word`` (itself if present), sorted."""
        found = self._near.get(word)
        if found is None:
            found = sorted(self.words.intersection(one_edit_candidates(word, self.alphabet)))
            if len(self._near) >= NEAR_MEMO_SIZE:
                self._near.clear()
            self._near[word] = found
        return list(found)  # callers may change theirs


def field_words(searcher: tantivy.Searcher, fields: Iterable[str]) -> set[str]:
    """Every term of ``fields`` (a walk of each field's term dictionary)."""
    found: set[str] = set()
    for name in fields:
        found.update(term for term, _count in searcher.terms_with_prefix(name, ""))
    return found


@dataclass(frozen=True)
class Vocabulary:
    """The words of an opened index: stems of titles and abstracts, and authors' names."""

    stems: WordSet
    names: WordSet

    @classmethod
    def read(
        cls, searcher: tantivy.Searcher, text_fields: Iterable[str], name_field: str
    ) -> Vocabulary:
        return cls(
            WordSet.of(field_words(searcher, text_fields)),
            WordSet.of(field_words(searcher, [name_field])),
        )
