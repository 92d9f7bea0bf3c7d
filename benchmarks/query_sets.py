"""Evaluation sets by kind of query, made from the newest papers of the shared listing file.

Each set is a BEIR-format directory (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``)
that ``dailypapers eval beir DIR --split test`` reads. All sets share one corpus (the newest
``--papers`` papers by first listing day, then id), so its embeddings are computed once per
precision. Every query is made from one paper, which is its one relevant answer. Kinds:

- ``exact-title``: the title as it is (the one kind that is about exact recall);
- ``title-memory``: a title as remembered: lower case, the first four to seven words, and one
  word in two with two letters swapped;
- ``keyword-bag``: five content words of the abstract that are not in the title, shuffled;
- ``fragment``: eight consecutive words of one abstract sentence with two of them dropped;
- ``question``: "how to", "what is", "how does ... work" or "why does ... " around three or
  four content words of one abstract sentence, in their order.

Deterministic for a given file and ``--seed``; papers are drawn without replacement per kind.
Run::

    .venv/bin/python -m benchmarks.query_sets [--out data/bench/sets] [--papers 3000]
        [--queries 150] [--seed 13]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import LISTING, ROOT

KINDS = ("exact-title", "title-memory", "keyword-bag", "fragment", "question")
DEFAULT_OUT = ROOT / "data" / "bench" / "sets"
STOP = set(
    "a an and are as at be been but by can for from has have how if in into is it its may more "
    "most new no not of on or our over such than that the their then there these they this those "
    "to under up use used using via was we were what when where which while who why will with "
    "within without both also each other only show shows paper propose proposed approach method "
    "methods results based however further thus first two one".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    abstract: str


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    paper: str


def newest_papers(path: Path = LISTING, count: int = 3000) -> list[Paper]:
    """The ``count`` newest papers of a listing file (first listing day, then id, descending)."""
    rows: list[tuple[str, str, Paper]] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            day = min(record.get("listing_dates") or ["0000"])
            title = " ".join(str(record.get("title") or "").split())
            abstract = " ".join(str(record.get("summary") or "").split())
            if title and abstract:
                rows.append((day, record["id"], Paper(record["id"], title, abstract)))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [paper for _day, _id, paper in rows[:count]]


def content_words(text: str) -> list[str]:
    """Words of four letters or more that are not stop words, in order."""
    return [w for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in STOP]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 8]


def swap_letters(word: str, rng: random.Random) -> str:
    """``word`` with two neighbouring inner letters swapped (a typing slip)."""
    if len(word) < 5:
        return word
    at = rng.randrange(1, len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def exact_title(paper: Paper, _rng: random.Random) -> str | None:
    return paper.title


def title_memory(paper: Paper, rng: random.Random) -> str | None:
    words = paper.title.lower().split()
    if len(words) < 4:
        return None
    words = words[: rng.randint(4, 7)]
    if rng.random() < 0.5:
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        words[longest] = swap_letters(words[longest], rng)
    text = " ".join(words)
    return None if text == paper.title.lower() else text


def keyword_bag(paper: Paper, rng: random.Random) -> str | None:
    in_title = {w.lower() for w in _WORD.findall(paper.title)}
    words = list(dict.fromkeys(w.lower() for w in content_words(paper.abstract)))
    words = [w for w in words if w not in in_title]
    if len(words) < 5:
        return None
    picked = rng.sample(words, 5)
    rng.shuffle(picked)
    return " ".join(picked)


def fragment(paper: Paper, rng: random.Random) -> str | None:
    candidates = sentences(paper.abstract)
    if not candidates:
        return None
    words = rng.choice(candidates).split()
    start = rng.randrange(len(words) - 7)
    window = words[start : start + 8]
    dropped = set(rng.sample(range(1, 7), 2))  # inner words, so the ends still anchor it
    kept = [w for i, w in enumerate(window) if i not in dropped]
    return " ".join(w.strip(".,;:()\"'") for w in kept).lower()


QUESTIONS = ("how to {}", "what is {}", "how does {} work", "why does {} matter")


def question(paper: Paper, rng: random.Random) -> str | None:
    options = [content_words(s) for s in sentences(paper.abstract)]
    options = [words for words in options if len(words) >= 4]
    if not options:
        return None
    words = rng.choice(options)
    size = rng.randint(3, 4)
    start = rng.randrange(len(words) - size + 1)
    topic = " ".join(words[start : start + size]).lower()
    return rng.choice(QUESTIONS).format(topic)


MAKERS: dict[str, Callable[[Paper, random.Random], str | None]] = {
    "exact-title": exact_title,
    "title-memory": title_memory,
    "keyword-bag": keyword_bag,
    "fragment": fragment,
    "question": question,
}


def make_queries(papers: list[Paper], kind: str, count: int, seed: int) -> list[Query]:
    """``count`` queries of ``kind``, each from a different paper, the same for one seed."""
    rng = random.Random(f"{seed}:{kind}")
    order = list(range(len(papers)))
    rng.shuffle(order)
    queries: list[Query] = []
    for index in order:
        text = MAKERS[kind](papers[index], rng)
        if text:
            queries.append(Query(f"{kind}-{len(queries) + 1}", text, papers[index].id))
        if len(queries) == count:
            break
    return queries


def _jsonl(path: Path, rows: Iterator[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_set(directory: Path, papers: list[Paper], queries: list[Query]) -> None:
    """One BEIR-format directory: the corpus, the queries and their one relevant paper each."""
    (directory / "qrels").mkdir(parents=True, exist_ok=True)
    _jsonl(
        directory / "corpus.jsonl",
        ({"_id": p.id, "title": p.title, "text": p.abstract} for p in papers),
    )
    _jsonl(directory / "queries.jsonl", ({"_id": q.id, "text": q.text} for q in queries))
    with (directory / "qrels" / "test.tsv").open("w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        out.writelines(f"{q.id}\t{q.paper}\t1\n" for q in queries)


def write_sets(out: Path, papers: int, queries: int, seed: int) -> list[Path]:
    corpus = newest_papers(LISTING, papers)
    written = []
    for kind in KINDS:
        write_set(out / kind, corpus, make_queries(corpus, kind, queries, seed))
        written.append(out / kind)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--papers", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    for directory in write_sets(args.out, args.papers, args.queries, args.seed):
        print(directory)


if __name__ == "__main__":
    main()
