#!/usr/bin/env bash
# The serving benchmark: serve's HTTP latency at a fixed request rate and its scoring throughput while model versions
# arrive, and the staleness of each version (publication to swap), in one process with an in-JVM broker and
# registry. Writes bench/results/serving.json (or the path given) from the repository root. Settings via
# SERVING_OPTS: -Dserving.seconds=60 -Dserving.rate=200 -Dserving.events=50000 -Dserving.versionsPerSecond=5.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-bench/results/serving.json}"
cp="$PWD/streams-app/target/serving-bench.classpath"
./mvnw -B -q -pl streams-app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$cp"
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g ${SERVING_OPTS:-} \
    -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat "$cp")" \
    io.spillway.app.serving.bench.ServingBenchmark "$out"
