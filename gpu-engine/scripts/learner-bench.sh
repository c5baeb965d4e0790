#!/usr/bin/env bash
# Trained events/s of the CPU spiking learner; writes bench/results/engine-learner-throughput.json
# (or the path given) from the repository root.
exec "$(dirname "$0")/run-bench.sh" LearnerThroughputBenchmark "${1:-bench/results/engine-learner-throughput.json}" 2g
