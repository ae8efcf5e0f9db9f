"""Benchmarks against a real PostgreSQL: each prints its figure beside a baseline measured in
the same run. ``python -m bench.append``, ``python -m bench.rebuild``, ``python -m bench.all``."""
