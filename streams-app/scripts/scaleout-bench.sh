#!/usr/bin/env bash
# The scale-out benchmark: one instance vs two instances in split training (error-feedback density 0.1 and 1)
# on the realdata stream, through the whole app. Writes bench/results/scaleout.json (or the path given) from the
# repository root. Settings: -Drealdata.events=... -Dscaleout.optimizer=... via SCALEOUT_OPTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-bench/results/scaleout.json}"
cp="$PWD/streams-app/target/scaleout-bench.classpath"
./mvnw -B -q -pl streams-app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$cp"
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g ${SCALEOUT_OPTS:-} \
    -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat "$cp")" \
    io.spillway.app.replay.bench.ScaleOutBenchmark "$out"
