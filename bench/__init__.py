"""Benchmarks: scripts that print their figures (docs/performance.md); they import anything."""
