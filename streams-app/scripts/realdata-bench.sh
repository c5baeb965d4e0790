#!/usr/bin/env bash
# The realdata benchmark: Spillway (Adam, M-FAC, sparse M-FAC; engine alone and through a real broker) vs the
# PyTorch peer on real text corpora from Debian packages (installed when missing; needs root for that).
# Writes bench/results/realdata.json (or the path given) from the repository root.
# Settings: -Drealdata.events=200000 -Drealdata.hidden=128 ... via REALDATA_OPTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-bench/results/realdata.json}"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "installing python3-torch (the PyTorch peer)" >&2
    apt-get install -y --no-install-recommends python3-torch >&2
fi
cp="$PWD/streams-app/target/realdata-bench.classpath"
./mvnw -B -q -pl streams-app -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$cp"
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx512m ${REALDATA_OPTS:-} \
    -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat "$cp")" \
    io.spillway.app.replay.bench.RealDataBenchmark "$out"
