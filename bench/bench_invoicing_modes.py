#!/usr/bin/env python3
"""A monthly batch run against Odoo's own batch invoicing, side by side.

Builds, twice, C customers invoiced in one batch per month, each with S sales of
4 pallets (invoiced on delivered quantities, 15 % tax) whose deliveries were
validated last month (real ``stock.picking`` validations). Then measures, in
one process on one database:

* baseline: Odoo's own ``sale.order._create_invoices()`` (which groups the
  sales per customer: C invoices) + ``action_post()`` on the first set, in one
  transaction;
* billing run following the customers' invoicing modes on the second set:
  fetch (what each invoice bills, from the deliveries), then Process and Odoo's
  scheduler code until the run is done (C invoices, committed chunk by chunk).

Usage (from the repository root, after scripts/setup.sh):

    $VENV/bin/python bench/bench_invoicing_modes.py --customers 1000 --shipments 5

Figures: wall seconds, milliseconds and SQL queries per invoice, and the peak
resident memory of the process during the phase (above its level at start).
"""

import argparse
import os
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_invoicing as common  # noqa: E402

import odoo  # noqa: E402
from odoo import Command  # noqa: E402


def build_batch_customers(registry, customers, shipments, tag_name):
    """``customers`` batch-monthly customers with ``shipments`` delivered sales
    each; return the sale ids."""
    date_from, __ = common.last_month()
    order_date = datetime.combine(date_from.replace(day=5), datetime.min.time())
    done_date = datetime.combine(date_from.replace(day=20), datetime.min.time())
    ids = []
    with registry.cursor() as cr:
        env = common.env_for(cr)
        tag = env["crm.tag"].create({"name": tag_name})
        pallet = env["product.product"].create(
            {
                "name": f"{tag_name} pallet",
                "type": "consu",
                "invoice_policy": "delivery",
                "list_price": 100.0,
                "taxes_id": [Command.set(env.company.account_sale_tax_id.ids)],
            }
        )
        cr.commit()
        per_block = max(1, 500 // shipments)
        for start in range(0, customers, per_block):
            size = min(per_block, customers - start)
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"{tag_name} customer {start + i}",
                        "email": f"c{start + i}@{tag_name}.example",
                        "billing_invoicing_mode": "batch",
                        "billing_invoicing_period": "monthly",
                    }
                    for i in range(size)
                ]
            )
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "tag_ids": [Command.set(tag.ids)],
                        "order_line": [
                            Command.create(
                                {"product_id": pallet.id, "product_uom_qty": 4}
                            )
                        ],
                    }
                    for partner in partners
                    for __ in range(shipments)
                ]
            )
            orders.action_confirm()
            pickings = orders.picking_ids
            for move in pickings.move_ids:
                move.quantity = move.product_uom_qty
            pickings.move_ids.picked = True
            pickings.with_context(skip_backorder=True).button_validate()
            env.flush_all()
            cr.execute(
                "UPDATE sale_order SET date_order = %s, approved_for_invoicing = true "
                "WHERE id IN %s",
                [order_date, tuple(orders.ids)],
            )
            cr.execute(
                "UPDATE stock_picking SET date_done = %s WHERE id IN %s",
                [done_date, tuple(pickings.ids)],
            )
            ids += orders.ids
            cr.commit()
            env.invalidate_all()
            print(f"  {len(ids)} sales delivered", flush=True)
    return ids


def bench_modes_run(registry, tag_name):
    fetch, process = {}, {}
    with registry.cursor() as cr:
        env = common.env_for(cr)
        date_from, date_to = common.last_month()
        scenario = env["billing.scenario"].create(
            {
                "name": f"Bench {tag_name}",
                "billing_action": "create_only",
                "require_approval": True,
                "invoice_date_mode": "period_end",
                "use_invoicing_mode": True,
            }
        )
        tag = env["crm.tag"].search([("name", "=", tag_name)])
        run = env["billing.run"].create(
            {
                "scenario_id": scenario.id,
                "date_from": date_from,
                "date_to": date_to,
                "tag_ids": [Command.set(tag.ids)],
            }
        )
        cron_id = env.ref("invoice_manager.ir_cron_billing_run_process").id
        common.vacuum_analyze(cr)
        with common.measure(fetch):
            run.action_fetch()
            cr.commit()
        with common.measure(process):
            run.action_process()
            cr.commit()
            process["ticks"] = common.run_scheduler(registry, cron_id)
        env.invalidate_all()
        assert run.state == "done", f"run {run.name} is {run.state}"
        fetch["lines"] = len(run.line_ids)
        process["invoices"] = len(run.line_ids.invoice_ids)
        process["errors"] = run.error_count
        process["amount"] = sum(run.invoice_ids.mapped("amount_total"))
    return fetch, process


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_modes")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--shipments", type=int, default=5)
    args = parser.parse_args()
    registry = common.open_database(args.db, "invoice_manager_stock")
    stamp = int(time.time())
    base_tag, run_tag = f"modesbase{stamp}", f"modesrun{stamp}"
    print(f"Building 2 x {args.customers} customers x {args.shipments} deliveries...")
    base_ids = build_batch_customers(registry, args.customers, args.shipments, base_tag)
    build_batch_customers(registry, args.customers, args.shipments, run_tag)

    baseline = common.odoo_invoice(
        registry, base_ids, {}, invoice_date=common.last_month()[1]
    )
    fetch, process = bench_modes_run(registry, run_tag)
    both = {
        "seconds": fetch["seconds"] + process["seconds"],
        "queries": fetch["queries"] + process["queries"],
        "peak_mb": max(fetch["peak_mb"], process["peak_mb"]),
        "invoices": process["invoices"],
    }
    n = args.customers
    print(
        f"\nMonthly batch: {n} customers x {args.shipments} delivered sales "
        f"(Odoo {odoo.release.version}, {os.cpu_count()} cores, database {args.db})"
    )
    print(common.HEADER)
    print(common.row("Odoo _create_invoices + action_post", n, baseline))
    fetch["invoices"] = process["invoices"]
    print(common.row("billing run by modes: fetch", n, fetch, baseline))
    print(common.row("billing run by modes: process", n, process, baseline))
    print(common.row("billing run by modes: fetch + process", n, both, baseline))
    print(
        f"  invoices: Odoo {baseline['invoices']}, run {process['invoices']} "
        f"({process['errors']} errors), run total {process['amount']:.2f}"
    )


if __name__ == "__main__":
    main()
