"""Reading a BEIR-format directory: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/SPLIT.tsv``.

Used by ``dailypapers eval beir``. The corpus is indexed in a temporary space of its own and
never touches the site's data.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


class BeirError(ValueError):
    """The directory is not a usable BEIR dataset; the message says which file and why."""


@dataclass(frozen=True)
class BeirDoc:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirDataset:
    name: str
    split: str
    corpus: list[BeirDoc]
    queries: dict[str, str]  # only the queries judged in the split
    qrels: dict[str, dict[str, int]]

    @property
    def corpus_hash(self) -> str:
        """Identifies the corpus text, so cached embeddings are reused only for the same one."""
        digest = hashlib.blake2b(digest_size=16)
        for doc in self.corpus:
            digest.update(f"{doc.id}\x00{doc.title}\x00{doc.text}\x01".encode())
        return digest.hexdigest()


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise BeirError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise BeirError(f"{path} line {number}: invalid JSON ({error})") from None
            if not isinstance(row, dict) or "_id" not in row:
                raise BeirError(f"{path} line {number}: expected an object with an '_id'")
            rows.append(row)
    return rows


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise BeirError(f"{path}: no such file (is the split name right?)")
    judged: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if number == 1 and row and row[0] == "query-id":
                continue
            if len(row) != 3 or not row[2].lstrip("-").isdigit():
                raise BeirError(f"{path} line {number}: expected query-id, corpus-id, score")
            judged.setdefault(row[0], {})[row[1]] = int(row[2])
    return judged


def load_beir(directory: Path, split: str) -> BeirDataset:
    """Read a BEIR dataset; raise :class:`BeirError` with the file and line on bad input."""
    if not directory.is_dir():
        raise BeirError(f"{directory}: no such directory")
    qrels = _qrels(directory / "qrels" / f"{split}.tsv")
    corpus = [
        BeirDoc(str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or ""))
        for row in _jsonl(directory / "corpus.jsonl")
    ]
    texts = {
        str(row["_id"]): str(row.get("text") or "") for row in _jsonl(directory / "queries.jsonl")
    }
    missing = [qid for qid in qrels if qid not in texts]
    if missing:
        raise BeirError(f"{directory / 'queries.jsonl'}: no text for judged query {missing[0]!r}")
    return BeirDataset(
        name=directory.resolve().name,
        split=split,
        corpus=corpus,
        queries={qid: texts[qid] for qid in qrels},
        qrels=qrels,
    )
