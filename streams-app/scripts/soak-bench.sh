#!/usr/bin/env bash
# Soak benchmark (not in CI): the whole app at a steady rate for a long time, memory sampled; writes
# bench/results/soak.json from the repository root.  Usage: soak-bench.sh [minutes=30] [events/s=2000] [out]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-30}
rate=${2:-2000}
out=${3:-bench/results/soak.json}
cp="$PWD/streams-app/target/soak-bench.classpath"
./mvnw -B -q -pl streams-app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$cp"
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx1g @jvm.options \
    -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat "$cp")" \
    io.spillway.app.soak.SoakBenchmark "$out" "$minutes" "$rate"
