#!/usr/bin/env bash
# Double-checkpointing benchmarks on the CPU backend; writes bench/results/checkpointing.json
# (or the path given) from the repository root.
exec "$(dirname "$0")/run-bench.sh" CheckpointBenchmark "${1:-bench/results/checkpointing.json}" 6g
