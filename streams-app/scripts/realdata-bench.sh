#!/usr/bin/env bash
# The realdata benchmark: Spillway (the default learner, Adam, M-FAC, sparse M-FAC; engine alone and through a
# real broker) side by side with its peers (PyTorch twin of the learner's LIF or EGRU cell, PyTorch GRU of the
# same width with a learning-rate grid, an adaptive order-5 context model) on real text corpora from Debian
# packages (installed when missing; needs root for that). Writes bench/results/realdata.json (or the path
# given) from the repository root. docs/benchmarks.md says what each figure means.
#
# usage: realdata-bench.sh [--smoke] [--parts LIST] [--datasets LIST] [--cell NAME] [--merge] [out.json]
#   --parts     comma list of base,long,wide,window,streaming (default: all; streaming is the long
#               engine-vs-app comparison, leave it out for the quality figures alone)
#   --datasets  comma list of linux-doc,perl-doc (default: both)
#   --cell      the recurrent cell of every engine run (default: the engine's default)
#   --merge     keep the figures of the parts not run from the existing out file
#   --smoke     small streams (20k events, 40k for long, 80k for window, 10k for wide), a 0.5 s warm-up, no
#               streaming part unless --parts names it; writes streams-app/target/realdata-smoke.json unless
#               a path is given. About 4 minutes on 2 idle cores (under one with --parts base
#               --datasets linux-doc); checks the plumbing, not the figures.
# Any -Drealdata.* setting (events, hidden, longEvents, wideHidden, windowChunks, windowDeviceBudget,
# gruLrs, ...) goes in REALDATA_OPTS; extra Maven flags (e.g. -o) in REALDATA_MVN_OPTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
invocation="streams-app/scripts/realdata-bench.sh${*:+ $*}${REALDATA_OPTS:+ (REALDATA_OPTS=$REALDATA_OPTS)}"
smoke=0
out=""
props=()
parts=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --parts) parts="$2"; shift ;;
        --datasets) props+=("-Drealdata.datasets=$2"); shift ;;
        --cell) props+=("-Drealdata.cell=$2"); shift ;;
        --merge) props+=("-Drealdata.merge=true") ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
        *) out="$1" ;;
    esac
    shift
done
if [ "$smoke" = 1 ]; then
    props+=(-Drealdata.events=20000 -Drealdata.longEvents=40000 -Drealdata.wideEvents=10000
            -Drealdata.windowEvents=80000 -Drealdata.streamingEvents=40000 -Drealdata.repeats=1
            -Drealdata.warmUpMs=500)
    parts="${parts:-base,long,wide,window}"
    out="${out:-streams-app/target/realdata-smoke.json}"
fi
[ -n "$parts" ] && props+=("-Drealdata.parts=$parts")
out="${out:-bench/results/realdata.json}"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "installing python3-torch (the PyTorch peers)" >&2
    apt-get install -y --no-install-recommends python3-torch >&2
fi
# Debian's torch calls the system BLAS: with the reference libblas3 alone its GRU runs about 5x slower
if ! dpkg -s libopenblas0-openmp >/dev/null 2>&1 && ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
    echo "installing libopenblas0-openmp (an optimised BLAS for the PyTorch peers)" >&2
    apt-get install -y --no-install-recommends libopenblas0-openmp >&2
fi
cp="$PWD/streams-app/target/realdata-bench.classpath"
./mvnw -B -q ${REALDATA_MVN_OPTS:-} -pl streams-app -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
. .mvn/select-jdk.sh # the same JDK 25+ the wrapper uses
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx512m "${props[@]}" ${REALDATA_OPTS:-} "-Drealdata.command=$invocation" \
    -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat "$cp")" \
    io.spillway.app.replay.bench.RealDataBenchmark "$out"
