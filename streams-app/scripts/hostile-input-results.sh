#!/usr/bin/env bash
# Merges the hostile-input suite's result parts (every */target/hostile-input/*.json, each written by a test of the
# suite as it runs) into bench/results/hostile-input.json in the project's benchmark format. A required figure that
# no part has is listed under "missing" (never made up) and the script exits 1; two parts giving one figure different
# values is an error (counts that must be 0 everywhere, such as client_shutdowns, are summed instead).
#
# Usage: streams-app/scripts/hostile-input-results.sh [--run] [out]
#   --run  first run the suite: every test tagged hostile-input, in every module (./mvnw -B verify -Dgroups=...);
#          the parts are merged even when a test fails (they are written before the tests assert), and the
#          script then exits with the build's status
#   out    the merged file (default bench/results/hostile-input.json)
set -euo pipefail
cd "$(dirname "$0")/../.."

run=0
if [ "${1:-}" = "--run" ]; then
  run=1
  shift
fi
out=${1:-bench/results/hostile-input.json}
command -v python3 >/dev/null || { echo "hostile-input-results: python3 is needed to merge the JSON parts" >&2; exit 2; }

build=0
if [ "$run" = 1 ]; then
  # Old parts would pass for this run's: remove them first.
  rm -f ./*/target/hostile-input/*.json
  ./mvnw -B verify -Dgroups=hostile-input -Dsurefire.failIfNoSpecifiedTests=false \
      -Dfailsafe.failIfNoSpecifiedTests=false || build=$?
fi

merge=0
python3 - "$out" <<'PY' || merge=$?
import datetime, glob, json, os, platform, sys

out = sys.argv[1]
REQUIRED = ["records_tried", "records_trained", "records_dead_lettered", "records_lost", "snapshots_tried",
            "snapshots_refused_with_reason", "store_files_tried", "http_requests_tried", "client_shutdowns",
            "health_probe_p99_ms_under_slow_clients"]
# Figures each part counts for its own inputs, which must be 0 in all of them: the suite's total is their sum.
SUMMED = {"client_shutdowns", "records_lost"}

def machine():
    cpu = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            mem = ", %d GiB" % round(kib / 2**20)
    except (OSError, StopIteration, ValueError):
        pass
    return "CPU: %s, %d cores%s; each test in one JVM: broker, registry, app" % (cpu, os.cpu_count() or 0, mem)

parts = sorted(glob.glob("*/target/hostile-input/*.json"))
figures, source, conflicts, listed = {}, {}, [], []
for path in parts:
    with open(path) as f:
        part = json.load(f)
    if isinstance(part, dict) and isinstance(part.get("figures"), dict):
        part = part["figures"]
    if not isinstance(part, dict):
        conflicts.append("%s: not a JSON object of figures" % path)
        continue
    written = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    listed.append({"path": path, "written": written.isoformat(timespec="seconds")})
    for name, value in part.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            continue  # figures are flat names to numbers (or strings)
        if name not in figures:
            figures[name], source[name] = value, path
        elif name in SUMMED:
            figures[name] += value
            source[name] += ", " + path
        elif figures[name] != value:
            conflicts.append("%s: %r in %s but %r in %s" % (name, figures[name], source[name], value, path))

if conflicts:
    sys.exit("hostile-input-results: cannot merge:\n  " + "\n  ".join(conflicts))
missing = [name for name in REQUIRED if name not in figures]
ordered = {name: figures[name] for name in REQUIRED if name in figures}
ordered.update((name, value) for name, value in figures.items() if name not in ordered)
newest = max((os.path.getmtime(p) for p in parts), default=None)
result = {
    "benchmark": "hostile-input",
    "machine": machine(),
    "date": (datetime.datetime.fromtimestamp(newest, datetime.timezone.utc) if newest else
             datetime.datetime.now(datetime.timezone.utc)).date().isoformat(),
    "command": "streams-app/scripts/hostile-input-results.sh --run",
    "figures": ordered,
    "parts": listed,
    "missing": missing,
}
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print("hostile-input-results: %d figures from %d parts into %s" % (len(ordered), len(listed), out))
if missing:
    print("hostile-input-results: MISSING (no part reports them): " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
PY

if [ "$build" != 0 ]; then
  echo "hostile-input-results: the suite's build failed (exit $build); the merged figures show what ran" >&2
  exit "$build"
fi
exit "$merge"
