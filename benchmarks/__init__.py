"""minigrad's benchmarks: pytest-benchmark suites (test_bench_*.py), the shared case
definitions (cases.py), the FP32 peak probe (peak.py) and `python -m benchmarks.compare`."""
