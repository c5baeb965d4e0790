#!/usr/bin/env bash
# GPU check of the CUDA backend, in two halves because the GPU machine has no Java and no network:
#   gpu-check.sh prepare        (on a build machine) builds gpu-engine, a jlinked JDK 25 runtime and the
#                               jars the GPU tests need, without ND4J, into gpu-engine/target/gpu-kit
#   gpu-check.sh run OUT_DIR    (on the GPU machine, repo root) runs the @Tag("gpu") tests, the kernel
#                               benchmark and the PyTorch peer; writes OUT_DIR/gpu.json (format:
#                               docs/benchmark-results.md)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
kit="$here/gpu-engine/target/gpu-kit"

prepare() {
    # shellcheck source=/dev/null
    source "$here/.mvn/select-jdk.sh"
    cd "$here"
    ./mvnw -B -q -pl gpu-engine -am -DskipTests test-compile
    rm -rf "$kit" && mkdir -p "$kit/lib"
    (cd gpu-engine/target/classes && "$JAVA_HOME/bin/jar" --create --file "$kit/lib/spillway-gpu-engine.jar" .)
    (cd gpu-engine/target/test-classes && "$JAVA_HOME/bin/jar" --create --file "$kit/lib/spillway-gpu-engine-tests.jar" \
        io/spillway/engine/backend/cuda)
    ./mvnw -B -q dependency:copy -Dmdep.useBaseVersion=true -DoutputDirectory="$kit/lib" \
        -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4
    ./mvnw -B -q dependency:copy -DoutputDirectory="$kit/lib" -Dartifact=org.assertj:assertj-core:3.27.4
    ./mvnw -B -q dependency:copy -DoutputDirectory="$kit/lib" -Dartifact=org.slf4j:slf4j-api:2.0.17
    ./mvnw -B -q dependency:copy -DoutputDirectory="$kit/lib" -Dartifact=org.slf4j:slf4j-simple:2.0.17
    "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.xml,jdk.unsupported \
        --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$kit/runtime"
    du -sh "$kit" "$kit/runtime" "$kit/lib"
}

run() {
    local out=${1:?usage: gpu-check.sh run OUT_DIR}
    mkdir -p "$out"
    local java="$kit/runtime/bin/java"
    local cp
    cp=$(ls "$kit"/lib/*.jar | grep -v console-standalone | paste -sd: -)
    local flags=(--enable-native-access=ALL-UNNAMED -Xmx8g -Dspillway.cuda.required=true)
    # NVRTC and cuBLAS may sit outside the loader's path (a toolkit folder or pip's nvidia packages).
    if ! ldconfig -p | grep -q 'libnvrtc.so.1[23]' || ! ldconfig -p | grep -q 'libcublas.so.1[23]'; then
        local dirs
        dirs=$(find /usr/local /opt /usr/lib -name 'libnvrtc.so.1[23]*' -o -name 'libcublas.so.1[23]*' 2>/dev/null \
            | xargs -r -n1 dirname | sort -u | paste -sd: -)
        export SPILLWAY_CUDA_LIB_PATH="${SPILLWAY_CUDA_LIB_PATH:+$SPILLWAY_CUDA_LIB_PATH:}$dirs"
        export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dirs"
        echo "CUDA libraries from: $dirs"
    fi
    export SPILLWAY_CUDA_CACHE="$out/kernel-cache"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/nvidia-smi.txt" || true
    set +e
    "$java" "${flags[@]}" -jar "$kit"/lib/junit-platform-console-standalone-*.jar execute \
        --class-path "$cp" --select-class io.spillway.engine.backend.cuda.CudaKernelsGpuTest \
        --select-class io.spillway.engine.backend.cuda.CudaLifSequenceGpuTest \
        --select-class io.spillway.engine.backend.cuda.CudaLearnerGpuTest --include-tag gpu \
        --fail-if-no-tests --disable-banner --disable-ansi-colors --reports-dir "$out/junit" --details=tree 2>&1 | tee "$out/gpu-tests.log"
    local tests=${PIPESTATUS[0]}
    "$java" "${flags[@]}" -cp "$cp" io.spillway.engine.backend.cuda.GpuBenchmark "$out/gpu-kernels.json" "$out/export" 2>&1 \
        | tee "$out/gpu-bench.log"
    local bench=${PIPESTATUS[0]}
    "$java" "${flags[@]}" -cp "$cp" io.spillway.engine.backend.cuda.LearnerGpuBenchmark "$out/gpu-learner.json" 2>&1 \
        | tee "$out/gpu-learner.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || bench=1
    python3 "$here/gpu-engine/scripts/lif_pytorch_peer.py" "$out/gpu-pytorch.json" "$out/export" 2>&1 | tee "$out/gpu-peer.log"
    rm -rf "$out/export" "$out/kernel-cache" "$out/junit"  # large or many files; the logs say it all
    set -e
    python3 - "$out" <<'PY'
import datetime, json, os, sys
out = sys.argv[1]
figures = {}
for name in ("gpu-kernels.json", "gpu-pytorch.json", "gpu-learner.json"):
    path = os.path.join(out, name)
    if os.path.exists(path):
        figures.update(json.load(open(path)))
machine = open(os.path.join(out, "nvidia-smi.txt")).read().strip() if os.path.exists(os.path.join(out, "nvidia-smi.txt")) else "unknown"
json.dump({"benchmark": "gpu", "machine": "GPU: " + machine + "; " + str(os.cpu_count()) + " CPU cores",
           "date": datetime.date.today().isoformat(),
           "command": "gpu-engine/scripts/gpu-check.sh prepare (build machine); gpu-engine/scripts/gpu-check.sh run OUT (GPU machine)",
           "figures": figures}, open(os.path.join(out, "gpu.json"), "w"), indent=2)
print(open(os.path.join(out, "gpu.json")).read())
PY
    echo "gpu tests exit $tests, benchmark exit $bench"
    [ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 prepare | run OUT_DIR" >&2; exit 2 ;;
esac
