"""Metrics, benchmarks and the synthetic test material they run on."""
