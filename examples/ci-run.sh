#!/bin/sh
# examples/ci-run.sh: run the whole job once from a CI pipeline or a script, and fail
# the build when anything is left for an operator. Needs MLC_CONFIG (and
# MLC_VAULT_KEY_FILE for the token cache) in the environment; MLC may name the
# binary. Exit: 0 all done; 1 rejected input or receipts needing an operator;
# 69/75/78 as mlc(1) says for a system down, work queued, or configuration.
set -u
MLC=${MLC:-mlc}
OUT=${OUT:-.}

"$MLC" ping --json >"$OUT/ping.json" || exit $?

# POSIX sh has no pipefail: each producer's status is kept in a file.
{ "$MLC" pull-pos; echo $? >"$OUT/pull-pos.rc"; } | "$MLC" push-shipments >"$OUT/inbound.jsonl"
push=$?
{ "$MLC" pull-shipments; echo $? >"$OUT/pull-shipments.rc"; } | "$MLC" post-receipts >"$OUT/receipts.jsonl"
post=$?
for f in pull-pos pull-shipments; do
  rc=$(cat "$OUT/$f.rc"); [ "$rc" -eq 0 ] || { echo "ci-run: mlc $f failed ($rc)" >&2; exit "$rc"; }
done

left=$("$MLC" queue --state exhausted,needs_review | wc -l)
echo "inbound shipments: $(grep -c '"kind":"inbound_shipment"' "$OUT/inbound.jsonl")," \
     "receipts: $(grep -c '"kind":"receipt"' "$OUT/receipts.jsonl"), for an operator: $left"
[ "$left" -gt 0 ] && "$MLC" queue --state exhausted,needs_review --table
for rc in $push $post; do
  case $rc in 0|1) ;; *) exit "$rc" ;; esac
done
[ "$push" -eq 0 ] && [ "$post" -eq 0 ] && [ "$left" -eq 0 ]
