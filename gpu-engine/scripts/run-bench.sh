#!/usr/bin/env bash
# Runs one of gpu-engine's benchmark harnesses (test sources, main method) on the CPU backend, from the
# repository root:  gpu-engine/scripts/run-bench.sh <ClassName in io.spillway.engine.bench> <out.json>
set -euo pipefail
cd "$(dirname "$0")/../.."
class=${1:?usage: run-bench.sh <BenchmarkClass> <out.json> [heap]}
out=${2:?usage: run-bench.sh <BenchmarkClass> <out.json> [heap]}
heap=${3:-2g}
./mvnw -B -q -pl gpu-engine -am test-compile
./mvnw -B -q -pl gpu-engine dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" "-Xmx$heap" @jvm.options \
    -cp "gpu-engine/target/test-classes:gpu-engine/target/classes:$(cat gpu-engine/target/bench.classpath)" \
    "$([[ $class == *.* ]] && echo "$class" || echo "io.spillway.engine.bench.$class")" "$out"
