"""`make bench`: scripts that time the platform against a bare baseline measured in the same run.

The machine is shared and noisy, so absolute times drift from run to run; each benchmark therefore
prints the ratio to a baseline doing the irreducible part of the same work (a bare HTTP post, a
`json.loads`, a DuckDB scan, the same transforms without Dagster) timed moments apart in the same
process. Results and how to reproduce them: docs/benchmarks.md. Not tests: kept out of CI.
"""
