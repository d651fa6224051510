# bench/m3-to-po.jq: the jq baseline of "parse M3 list responses into purchase_order
# records" (bench/run.sh). Same input as bench/m3parse.c (saved M3 bodies, one per
# line: a PPS200MI/GetHead body, then the PO's PPS200MI/LstLine body) and the same
# output: the purchase_order record `mlc pull-pos` writes for the PO.
# Usage: jq -cn --arg day YYYYMMDD -f bench/m3-to-po.jq <responses
def rtrim: sub(" +$"; "");
def str_or_null: if . == null then null else rtrim | if . == "" then null else . end end;
def num: if . == null then 0 else rtrim | if . == "" then 0 else tonumber end end;
def day: if . == null then null
         else rtrim | if test("^[0-9]{8}$") then strptime("%Y%m%d") | mktime | todate else null end end;
def records: .results[0].records;
def po($h; $l):
  ($h | records[0]) as $H
  | [$l | records[]] as $L
  | {kind: "purchase_order",
     cono: ($H.CONO | num),
     divi: ($H.DIVI | str_or_null),
     po: ($H.PUNO | rtrim),
     order_type: ($H.ORTY | str_or_null),
     supplier: {id: ($H.SUNO | str_or_null), name: null},
     warehouse: ($H.WHLO | str_or_null),
     status: ([$L[].PUSL | str_or_null | select(. != null)] | min),
     status_high: ([$L[].PUST | str_or_null | select(. != null)] | max),
     changed_at: ($day | day),
     lines: [$L[] | {line: (.PNLI | num), subline: (.PNLS | num), item: (.ITNO | str_or_null),
                     description: (.ITDS | str_or_null), qty_ordered: (.ORQA | num),
                     qty_received: (.RVQA | num), unit: (.PUUN | str_or_null),
                     due_date: (.DWDT | day), status: (.PUSL | str_or_null)}]};
foreach inputs as $x ({};
  if .h == null then {h: $x} else {h: null, pair: [.h, $x]} end;
  select(.pair) | po(.pair[0]; .pair[1]))
