"""kehu benchmarks (not tests: they measure and record, they never assert a time).

Run them with ``make bench`` or ``python -m bench.run [NAME ...] [--db sqlite|postgres|both]``;
each writes ``bench/results/<name>.json``. See bench/README.md.
"""
