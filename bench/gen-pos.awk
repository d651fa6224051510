# gen-pos.awk: N purchase_order records (JSON lines) for the throughput benchmark,
# deterministic; every PO maps to one of the bench mapping's warehouses and suppliers.
# usage: awk -v n=1000000 -f bench/gen-pos.awk
BEGIN {
    split("Valve Pump Sensor Cable Bracket Fitting Motor Gasket", noun, " ")
    for (i = 0; i < n; i++) {
        po = 3000000 + i
        nl = 1 + (i % 4)
        printf "{\"kind\":\"purchase_order\",\"cono\":100,\"divi\":\"AAA\",\"po\":\"%d\",\"order_type\":\"PP%d\",\"supplier\":{\"id\":\"SUP00%d\",\"name\":\"Supplier %d\"},\"warehouse\":\"WH%d\",\"status\":\"20\",\"status_high\":\"35\",\"changed_at\":\"2026-11-%02dT00:00:00Z\",\"lines\":[", po, (i % 2) ? 3 : 1, 1 + (i % 3), 1 + (i % 3), 1 + (i % 3), 1 + (i % 28)
        for (l = 1; l <= nl; l++) {
            it = (i * 7 + l * 13) % 500 + 1
            q = 5 * (1 + (i + l) % 20)
            r = (l == 2) ? 5 : 0
            printf "%s{\"line\":%d,\"subline\":0,\"item\":\"ITM%05d\",\"description\":\"%s %c%02d\",\"qty_ordered\":%d,\"qty_received\":%d,\"unit\":\"EA\",\"due_date\":\"2026-12-%02dT00:00:00Z\",\"status\":\"20\"}", (l > 1) ? "," : "", l * 10, it, noun[1 + it % 8], 65 + it % 26, it % 100, q, r, 1 + (i % 28)
        }
        printf "]}\n"
    }
}
