"""Benchmarks: one command each (``python -m benchmarks.NAME``), figures in BENCHMARKS.md."""
