#!/bin/sh
# Entrypoint of the Spillway image: starts the app with the JVM flags it needs and, for the `run`
# command, turns SPILLWAY_* environment variables into CLI options. An option given on the command
# line wins over its variable; unset or empty variables add nothing.
#
#   SPILLWAY_BOOTSTRAP_SERVERS    --bootstrap-servers
#   SPILLWAY_SCHEMA_REGISTRY_URL  --schema-registry-url
#   SPILLWAY_OPS_HOST             --ops-host
#   SPILLWAY_OPS_PORT             --ops-port
#   SPILLWAY_OPS_AUTH_TOKEN_FILE  --ops-auth-token-file (a mounted secret: the token /metrics and the dashboard need)
#   SPILLWAY_OPS_ALLOW_UNAUTHENTICATED  --ops-allow-unauthenticated (true: serve them without a token)
#   SPILLWAY_STATE_DIR            --state-dir
#   SPILLWAY_REPLICATION_FACTOR   --replication-factor
#   SPILLWAY_BACKEND              --backend
#   SPILLWAY_CONFIG               --config (properties file of extra Kafka/registry client settings)
#   JAVA_OPTS                     extra JVM options (heap size, ...), split on spaces
#   SPILLWAY_JAVA                 the java launcher (default: java)
# The JVM flags are those of jvm.options: next to this script in the image, at the repository root in a checkout.
set -eu

here=$(dirname "$0")
jvm_options=""
for candidate in "$here/jvm.options" "$here/../jvm.options"; do
    if [ -f "$candidate" ]; then
        jvm_options=$candidate
        break
    fi
done
if [ -z "$jvm_options" ]; then
    echo "docker-entrypoint.sh: no jvm.options next to it or in its parent folder" >&2
    exit 1
fi
# One flag a line, # starts a comment (a java argument file); read here so the flags show in ps and in tests.
jvm_flags=$(sed -e 's/#.*//' "$jvm_options")

has_option() {
    # $1: option name; the rest: the arguments to search (--name value or --name=value).
    name=$1
    shift
    for arg in "$@"; do
        case "$arg" in
            "$name" | "$name"=*) return 0 ;;
        esac
    done
    return 1
}

if [ "${1:-}" = "run" ]; then
    shift
    for pair in \
        BOOTSTRAP_SERVERS:--bootstrap-servers \
        SCHEMA_REGISTRY_URL:--schema-registry-url \
        OPS_HOST:--ops-host \
        OPS_PORT:--ops-port \
        OPS_AUTH_TOKEN_FILE:--ops-auth-token-file \
        OPS_ALLOW_UNAUTHENTICATED:--ops-allow-unauthenticated \
        STATE_DIR:--state-dir \
        REPLICATION_FACTOR:--replication-factor \
        BACKEND:--backend \
        CONFIG:--config; do
        var="SPILLWAY_${pair%%:*}"
        option="${pair#*:}"
        eval "value=\${$var:-}"
        if [ -n "$value" ] && ! has_option "$option" "$@"; then
            set -- "$@" "$option=$value"
        fi
    done
    set -- run "$@"
fi

# The flags and JAVA_OPTS are split on purpose: they hold several JVM options (none with a space).
# shellcheck disable=SC2086
exec "${SPILLWAY_JAVA:-java}" \
    $jvm_flags \
    ${JAVA_OPTS:-} \
    -jar /opt/spillway/spillway.jar "$@"
