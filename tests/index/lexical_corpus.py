"""A small corpus written for the lexical index tests, and helpers to make documents."""

from __future__ import annotations

from datetime import date, datetime

from dailypapers.search.query import Filters
from dailypapers.store.documents import Document

__all__ = ["CORPUS", "Filters", "doc"]

T0 = datetime(2025, 1, 1, 12, 0, 0)


def doc(
    id: str,
    title: str,
    abstract: str = "",
    authors: tuple[str, ...] = (),
    categories: tuple[str, ...] = ("cs.LG",),
    day: date | None = date(2025, 1, 1),
    has_code: bool = False,
    updated_at: datetime = T0,
) -> Document:
    return Document(
        id, title, abstract, authors, categories, day, has_code, f"hash-{id}", updated_at
    )


CORPUS = (
    doc(
        "2501.00001",
        "Attention Is All You Need",
        "We propose the Transformer, a network architecture based solely on attention "
        "mechanisms, dispensing with recurrence and convolutions entirely.",
        ("Ashish Vaswani", "Noam Shazeer"),
        ("cs.CL", "cs.LG"),
        date(2025, 1, 3),
        has_code=True,
    ),
    doc(
        "2501.00002",
        "Graph Neural Networks for Molecular Property Prediction",
        "Message passing neural networks predict properties of molecules from their graphs.",
        ("Justin Gilmer", "Oriol Vinyals"),
        ("cs.LG", "q-bio.QM"),
        date(2025, 1, 10),
    ),
    doc(
        "2501.00003",
        "A Survey of Attention Mechanisms",
        "Attention has become central to deep learning; we survey transformer variants, "
        "sparse attention and linear attention.",
        ("Minh Do", "Lan Anh Nguyen"),
        ("cs.LG",),
        date(2025, 2, 1),
        has_code=True,
    ),
    doc(
        "2501.00004",
        "Networks of Neural Oscillators",
        "Coupled oscillators form networks whose neural dynamics synchronise; we study "
        "how the networks lock in phase.",
        ("Yann LeCun",),
        ("q-bio.NC",),
        date(2025, 2, 15),
    ),
    doc(
        "2501.00005",
        "Diffusion Models Beat GANs on Image Synthesis",
        "We show that diffusion models can achieve image sample quality superior to "
        "generative adversarial networks.",
        ("Prafulla Dhariwal", "Alex Nichol"),
        ("cs.CV", "cs.LG"),
        date(2025, 3, 1),
        has_code=True,
    ),
    doc(
        "2501.00006",
        "Protein Structure Prediction with Deep Learning",
        "Accurate prediction of protein folding from sequence with an attention-based "
        "network trained on known structures.",
        ("John Jumper",),
        ("q-bio.BM", "cs.LG"),
        date(2025, 3, 20),
    ),
    doc(
        "2501.00007",
        "Scaling Laws for Language Models",
        "Loss scales as a power law with model size, dataset size and compute; large "
        "language models are sample efficient.",
        ("Jared Kaplan", "Sam McCandlish"),
        ("cs.CL",),
        None,
    ),
    doc(
        "2501.00008",
        "Quasars in the Early Universe",
        "Observations of distant luminous objects constrain black hole growth.",
        ("Xiaohui Fan",),
        ("astro-ph.GA",),
        date(2025, 4, 1),
    ),
    doc(
        "2501.00009",
        "Observations of Distant Galaxies",
        "We catalogue galaxies and quasars at high redshift with a new survey telescope.",
        ("Maria Lopez",),
        ("astro-ph.GA",),
        date(2025, 4, 2),
    ),
)
