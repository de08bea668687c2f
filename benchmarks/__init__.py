"""Side-by-side benchmarks of throttle-suite and its peer libraries (`make bench`).

Every library is driven through the same small adapter (`benchmarks.adapters`), every
framework integration through the same app adapter (`benchmarks.frameworks`); the workloads
in `benchmarks.workloads` time them in interleaved repeats and `benchmarks.report` writes
`benchmarks/results/latest.{md,json,png}`.
"""
