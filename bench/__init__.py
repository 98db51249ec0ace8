"""Benchmarks: each script prints its figures (README.md here, docs/performance.md); imports anything."""
