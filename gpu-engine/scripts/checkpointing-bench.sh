#!/usr/bin/env bash
# Checkpointing benchmark (max sequence in a budget, overheads, sparse vs dense step); writes bench/results/checkpointing.json
# (or the path given) from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-bench/results/checkpointing.json}"
./mvnw -B -q -pl gpu-engine -am test-compile
./mvnw -B -q -pl gpu-engine dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/checkpointing-bench.classpath
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -cp "gpu-engine/target/test-classes:gpu-engine/target/classes:$(cat gpu-engine/target/checkpointing-bench.classpath)" \
    io.spillway.engine.checkpoint.CheckpointingBenchmark "$out" "${@:2}"
