"""`make bench`: measured numbers for the issues' speed and cost targets.

Each benchmark module exposes `run() -> list[Result]`; `python -m bench` runs every module
listed in `bench.__main__.MODULES` (or the ones named on the command line), writes
`bench/results.json` and prints a table. Benchmarks run on the shared, noisy 2-core machine,
so every figure is a median over repetitions and comparisons are ratios measured in one run.
"""
