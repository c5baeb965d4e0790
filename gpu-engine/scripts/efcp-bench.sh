#!/usr/bin/env bash
# EFCP / M-FAC benchmarks (window memory, step time, quality on the spiking RNN); writes
# bench/results/efcp.json (or the path given) from the repository root.
exec "$(dirname "$0")/run-bench.sh" io.spillway.engine.optim.EfcpBenchmark "${1:-bench/results/efcp.json}" 10g
