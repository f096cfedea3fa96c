"""Helpers of benchmarks/plan_accuracy.py: a real producer -> queue -> consumers -> PostgreSQL
pipeline (``pipeline``) and what this machine and its processes spent while it ran (``probes``)."""
