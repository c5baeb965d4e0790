#!/bin/sh
# Checks docker-entrypoint.sh without Docker: a fake java prints its arguments one a line.
# Usage: sh docker/test-entrypoint.sh   (exit status 0 when every case passes)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nfor a in "$@"; do printf "%%s\\n" "$a"; done\n' > "$work/java"
chmod +x "$work/java"
failures=0

check() {
    # $1: case name, $2: expected argument lines after the jar, then: env assignments and command
    name=$1; expected=$2; shift 2
    actual=$(env -i PATH="$PATH" SPILLWAY_JAVA="$work/java" "$@" | sed '1,/^\/opt\/spillway\/spillway.jar$/d')
    if [ "$actual" != "$expected" ]; then
        printf 'FAIL %s\n--- expected\n%s\n--- actual\n%s\n' "$name" "$expected" "$actual"
        failures=$((failures + 1))
    else
        printf 'ok   %s\n' "$name"
    fi
}

nl='
'
check "variables become run options" "run${nl}--bootstrap-servers=kafka:9092${nl}--ops-port=9404" \
    SPILLWAY_BOOTSTRAP_SERVERS=kafka:9092 SPILLWAY_OPS_PORT=9404 sh "$here/docker-entrypoint.sh" run
check "command line wins, spaces kept" \
    "run${nl}--bootstrap-servers${nl}other:1${nl}--model-id=a b${nl}--schema-registry-url=http://sr:8081" \
    SPILLWAY_BOOTSTRAP_SERVERS=kafka:9092 SPILLWAY_SCHEMA_REGISTRY_URL=http://sr:8081 \
    sh "$here/docker-entrypoint.sh" run --bootstrap-servers other:1 "--model-id=a b"
check "empty variables add nothing" "run${nl}--ops-host=0.0.0.0" \
    SPILLWAY_BOOTSTRAP_SERVERS= SPILLWAY_OPS_HOST=0.0.0.0 sh "$here/docker-entrypoint.sh" run
check "ops endpoint authentication variables" \
    "run${nl}--ops-auth-token-file=/run/secrets/ops.token${nl}--ops-allow-unauthenticated=false" \
    SPILLWAY_OPS_AUTH_TOKEN_FILE=/run/secrets/ops.token SPILLWAY_OPS_ALLOW_UNAUTHENTICATED=false \
    sh "$here/docker-entrypoint.sh" run
check "other commands are passed through" "status${nl}--help" \
    SPILLWAY_BOOTSTRAP_SERVERS=kafka:9092 sh "$here/docker-entrypoint.sh" status --help
jvm=$(env -i PATH="$PATH" SPILLWAY_JAVA="$work/java" JAVA_OPTS="-Xmx1g -Dx=1" sh "$here/docker-entrypoint.sh" run \
    | sed '/^-jar$/,$d' | tr '\n' ' ')
# the flags of the repository's jvm.options, comments and blank lines left out, then JAVA_OPTS
flags=$(sed -e 's/#.*//' "$here/../jvm.options" | tr -s ' \n' '\n\n' | sed '/^$/d' | tr '\n' ' ')
case "$flags" in
    *--enable-native-access=ALL-UNNAMED*--sun-misc-unsafe-memory-access=allow*) ;;
    *) printf 'FAIL jvm.options lacks the native-access and Unsafe flags: %s\n' "$flags"; failures=$((failures + 1)) ;;
esac
if [ "$jvm" = "$flags-Xmx1g -Dx=1 " ]; then
    echo "ok   JVM flags and JAVA_OPTS"
else
    printf 'FAIL JVM flags: %s\n' "$jvm"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
