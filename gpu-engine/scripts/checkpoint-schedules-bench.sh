#!/usr/bin/env bash
# Checkpoint schedules at scale (longest window in the budget, verified runs, overheads, time model P14) on
# the CPU backend; writes bench/results/checkpointing-schedules.json (or the path given) from the repository root.
exec "$(dirname "$0")/run-bench.sh" io.spillway.engine.checkpoint.CheckpointingBenchmark \
    "${1:-bench/results/checkpointing-schedules.json}" 3g
