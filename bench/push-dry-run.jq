# push-dry-run.jq: the jq baseline of `mlc push-shipments --dry-run` (V2): the same
# shipstation_request records from the same purchase_order lines, with the mapping
# given as $map (bench/mapping.json, the one the bench config holds); weights in kg
# (mapping.items.weight_unit default).
# usage: jq -c --slurpfile map bench/mapping.json -f bench/push-dry-run.jq
def addr: {name, company_name: .company, address_line1: .street1, city_locality: .city,
           state_province: .state, postal_code, country_code: .country, phone}
          | with_entries(select(.value != null and .value != ""))
          + {address_residential_indicator: "no"};
$map[0] as $m
| if .kind != "purchase_order" then .
  else
    . as $po
    | $m.warehouses[$po.warehouse] as $wh
    | $m.suppliers[$po.supplier.id] as $sup
    | select($wh != null and $sup != null)
    | {kind: "shipstation_request", api: "v2", method: "POST", path: "/v2/shipments",
       body: ({external_shipment_id: "mlc-\($po.cono)-\($po.po)",
              carrier_id: $sup.carrier_id,
              shipment_status: "pending",
              ship_to: ($wh.ship_to | addr), ship_from: ($sup.ship_from | addr),
              items: [$po.lines[] | (.qty_ordered - (.qty_received // 0)) as $open | select($open > 0)
                      | {name: (.description // .item), sku: .item, quantity: $open,
                         external_order_id: $po.po,
                         external_order_item_id: "\($po.po)/\(.line)/\(.subline // 0)"}]}
             + ([$po.lines[] | select(.qty_ordered - (.qty_received // 0) > 0)] as $open
                | if ($open | length) > 0 and ($open | all(.weight != null and .weight > 0))
                  then ([$open[] | (.qty_ordered - (.qty_received // 0)) * .weight] | add) as $kg
                  | {packages: [{weight: (if $kg > 1 then {value: ((($kg * 1000) | round) / 1000), unit: "kilogram"}
                                          else {value: ((($kg * 1000 * 1000) | round) / 1000), unit: "gram"} end)}]}
                  else {} end))}
  end
