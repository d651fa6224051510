#!/bin/sh
# fuzz/run.sh SECONDS DIR BIN...: runs each libFuzzer binary for SECONDS, one
# after the other, starting from the checked-in seeds fuzz/corpus/<target>/ and
# the corpus it grew before (DIR/corpus/<target>/, never written back to fuzz/).
# A crash leaves its input in DIR/artifacts/<target>/ and fails the run.
# Not for: long campaigns (run a binary by hand with -jobs, -max_total_time).
set -u
secs=$1 dir=$2
shift 2
fail=0
for bin in "$@"; do
  t=$(basename "$bin")
  t=${t#fuzz_}
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "fuzz/corpus/$t"
  log="$dir/$t.log"
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ok (${execs:-?} execs, $cov, ${secs}s)"
  else
    echo "fuzz $t: FAILED, see $log and $dir/artifacts/$t/" >&2
    grep -m1 -A12 '^==[0-9]*==ERROR\|runtime error\|^==[0-9]*== ERROR' "$log" >&2
    fail=1
  fi
done
exit $fail
