# Sourced by ./mvnw and streams-app/bin/spillway: makes JAVA_HOME point at a JDK 25 or newer.
# The machines this project targets ship JDK 17 as the default `java` with a JDK 25 beside it,
# so we look for one before giving up. Respects a JAVA_HOME that is already new enough.
spillway_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
spillway_select_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(spillway_java_major "$JAVA_HOME")
    [ -n "$v" ] && [ "$v" -ge 25 ] && return 0
  fi
  for d in /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/java-2[5-9]* \
           /usr/lib/jvm/jdk-2[5-9]* /opt/java/openjdk /opt/jdk-2[5-9]* "$HOME"/.sdkman/candidates/java/2[5-9]*; do
    [ -x "$d/bin/java" ] || continue
    v=$(spillway_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      JAVA_HOME="$d"; export JAVA_HOME; return 0
    fi
  done
  if command -v java >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    v=$(spillway_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_HOME="$d"; export JAVA_HOME; return 0; fi
  fi
  echo "spillway: no JDK 25 or newer found (looked at JAVA_HOME, /usr/lib/jvm, /opt, sdkman, PATH)." >&2
  echo "spillway: install one (e.g. Temurin 25) or set JAVA_HOME to it." >&2
  return 1
}
# ./mvnw runs under `set -f`; the search below needs globbing.
case $- in *f*) spillway_noglob=1; set +f ;; *) spillway_noglob=0 ;; esac
spillway_select_jdk || exit 1
[ "$spillway_noglob" = 1 ] && set -f
unset spillway_noglob
