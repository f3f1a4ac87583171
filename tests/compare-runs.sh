#!/usr/bin/env bash
# "Behaviour unchanged" check: every Parquet table of one `bin/cnnlens run --out DIR` folder equal to
# its counterpart in another (same columns and types, same rows as a multiset, floats within 1e-6,
# PNG bytes equal or at least their decoded pixels).
#
#   tests/compare-runs.sh <before-run-dir> <after-run-dir> [--rename old=new ...] [--replace old=new ...]
#                         [--ignore COLUMN|TABLE.COLUMN ...] [--no-default-ignore] [--tolerance 1e-6]
#
#   --rename old=new    a table (or folder of tables) of before is called new in after
#   --replace old=new   in before's string values, old replaced by new: the path columns hold the
#                       checkout's absolute path (file:/old/checkout/conf/sample/...)
#   --ignore COL        compare the column's type but not its values; columns named "seconds"
#                       (wall-clock times) are ignored unless --no-default-ignore
#
#   e.g. (cd /path/to/old-checkout && bin/cnnlens run --out /tmp/run-before)
#        bin/cnnlens run --out /tmp/run-after
#        tests/compare-runs.sh /tmp/run-before /tmp/run-after --rename errors=features_errors \
#            --replace file:/path/to/old-checkout/=file:$PWD/
#   (or give the after run the same --images folder as the before run; then paths match as they are)
#
# Prints one line per table and "N passed, M failed"; exits 0 when all tables are equal, 1 when any
# differs or exists on one side only, 2 on a usage or build error.
# The comparison is io.cnnlens.tests.RunComparison (tests module, test sources), which uses Spark SQL
# and the JDK only, so it does not depend on the code under test. It runs on the tests module's test
# classpath with the JVM flags of the root pom's cnnlens.test.jvm property. The first use (or a
# change to RunComparison.java or a pom) compiles it: mvn -pl tests -am test-compile. Set
# CNNLENS_COMPARE_REBUILD=1 to force that; CNNLENS_COMPARE_JAVA_OPTS adds JVM options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/.." && pwd)"
src="$here/src/test/java/io/cnnlens/tests/RunComparison.java"
cls="$here/target/test-classes/io/cnnlens/tests/RunComparison.class"
cp_file="$here/target/compare-runs-classpath.txt"

case "${1:-}" in
  -h|--help|"")
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    [ -n "${1:-}" ] && exit 0 || exit 2 ;;
esac

stale() {
  [ "${CNNLENS_COMPARE_REBUILD:-0}" = 1 ] && return 0
  [ ! -f "$cls" ] || [ ! -s "$cp_file" ] && return 0
  [ -n "$(find "$src" "$home/pom.xml" "$here/pom.xml" -newer "$cls" -print -quit)" ] && return 0
  # a classpath entry that is gone (a cleaned module, a purged ~/.m2)
  local entry
  while IFS= read -r -d: entry || [ -n "$entry" ]; do
    [ -n "$entry" ] && [ ! -e "$entry" ] && return 0
  done < <(tr -d '\n' < "$cp_file")
  return 1
}

if stale; then
  echo "compare-runs: compiling the tests module (mvn -pl tests -am test-compile) ..." >&2
  # one reactor build: test-compile every module tests needs, then each module writes its own test
  # classpath (the reactor modules as their target/classes, target/test-classes); tests' is ours
  if ! (cd "$home" && mvn -B -q -Dstyle.color=never -pl tests -am -DskipTests \
          -Dmdep.outputFile=target/compare-runs-classpath.txt -Dmdep.includeScope=test \
          test-compile dependency:build-classpath) >&2; then
    echo "compare-runs: build failed" >&2
    exit 2
  fi
  if [ ! -f "$cls" ] || [ ! -s "$cp_file" ]; then
    echo "compare-runs: build left no $cls or $cp_file" >&2
    exit 2
  fi
  touch "$cls" # newer than the poms and the source it was just compiled from
fi

# the JVM flags Spark needs (the --add-opens list), from the root pom's cnnlens.test.jvm property
jvm="$(tr '\n' ' ' < "$home/pom.xml" | sed -n 's:.*<cnnlens\.test\.jvm>\([^<]*\)</cnnlens\.test\.jvm>.*:\1:p')"
if [ -z "$jvm" ]; then
  echo "compare-runs: no <cnnlens.test.jvm> property in $home/pom.xml" >&2
  exit 2
fi
# shellcheck disable=SC2206  # the property is a space-separated list of flags
jvm_opts=($jvm)

exec java "${jvm_opts[@]}" ${CNNLENS_COMPARE_JAVA_OPTS:-} \
  -cp "$here/target/test-classes:$(cat "$cp_file")" io.cnnlens.tests.RunComparison "$@"
