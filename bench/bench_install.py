#!/usr/bin/env python3
"""Installing the four addons on a database with a year of sales, beside an empty one.

Requirement: installing invoice_manager, invoice_manager_stock,
invoice_manager_queue and job_billing on a database of 15,000 sales and their
invoices of the last year takes at most 1.5 x the time of installing them on an
empty database plus a few seconds, with no full rewrite of a core table.

Two template databases, both with ``sale_management,stock,account`` and no demo
data (Odoo installs its generic chart of accounts by itself):

* ``<db>_empty``: just that;
* ``<db>_history``: a copy of ``<db>_empty`` with N confirmed sales of the last
  12 months and their posted invoices (``--sales``, default 15,000). Building
  that many through the ORM one by one takes too long, so the history is made
  in two steps:

  1. a seed of ``--seed`` sales (default 250) through the ORM: customers,
     consumable products with the default 15 % sales tax, sales on dates spread
     over the last year, confirmed (delivery orders created), one in five
     partly delivered (first move only partly done, backorder kept), invoiced
     one invoice per sale with ``_create_invoices(grouped=True)`` and posted
     with ``action_post()`` on the sale's date; one sale in 40 also has a
     cancelled invoice, one posted invoice in 30 a posted credit note;
  2. the seed multiplied with SQL up to N sales: ``INSERT ... SELECT`` of the
     seed rows of res_partner, sale_order, sale_order_line, account_move,
     account_move_line and their links (sale_order_line_invoice_rel, the tax
     and tag relations of the lines) with ids shifted by a multiple of the
     table's largest id, foreign keys between these tables shifted alike
     (references to rows that are not seed rows, such as the company or the
     accounts, kept); names of copied moves get a suffix ``/Ck`` so that
     posted names stay unique per journal; dates (order date, accounting and
     invoice date, due date, line dates) moved to another day of the last 365;
     then the id sequences are reset with ``setval`` and everything gets a
     ``VACUUM ANALYZE``. The copies are not business-valid (no pickings, no
     follower or chatter rows, invoice numbers out of sequence), only
     consistent enough for Odoo to load and install modules on the database.
     N is rounded up to a multiple of the seed.

For each template: ``createdb -T template copy``, ``pg_stat_reset()`` on the
copy, note the transaction id and every core table's relfilenode, then time
(wall seconds) ``odoo-bin -d copy -i <the four addons> --stop-after-init
--without-demo=all --max-cron-threads=0 --http-port=0``. After the install, per
core table: the live rows whose ``xmin`` is at least the noted transaction id
(rows inserted or updated by the install: exact), pg_stat_user_tables'
``n_tup_ins`` / ``n_tup_upd`` (after a second for the statistics to be flushed),
and whether the relfilenode changed (the table was rewritten, e.g. by an
ALTER COLUMN TYPE). A table whose rows were almost all written (>= 90 %, more
than 100 rows) is flagged as a full rewrite.

Usage (from the repository root):

    PATH=/opt/odoo/venv/bin:$PATH python bench/bench_install.py --sales 15000
    PATH=/opt/odoo/venv/bin:$PATH python bench/bench_install.py --sales 15000 --reuse

``--reuse`` keeps the templates if they exist with the right number of sales
(the history template is built again otherwise). The copies are dropped at the
end unless ``--keep``.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo/18.0")
ADDONS_PATH = f"{REPO},{ODOO_SRC}/addons"
BASE_MODULES = "sale_management,stock,account"
OUR_MODULES = "invoice_manager,invoice_manager_stock,invoice_manager_queue,job_billing"
CORE_TABLES = [
    "res_partner",
    "sale_order",
    "sale_order_line",
    "account_move",
    "account_move_line",
    "product_template",
    "product_product",
    "res_company",
]
# Tables multiplied from the seed, in insertion order.
HISTORY_TABLES = [
    "res_partner",
    "sale_order",
    "sale_order_line",
    "account_move",
    "account_move_line",
]
LINK_TABLES = [
    "sale_order_line_invoice_rel",
    "account_move_line_account_tax_rel",
    "account_tax_sale_order_line_rel",
    "account_account_tag_account_move_line_rel",
]
MARKER = "bench_install.sales"
ADMIN_UID = 2

import psycopg2  # noqa: E402


def log(msg):
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def connect(db, autocommit=True):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = autocommit
    return conn


def query(db, sql, params=None):
    with connect(db) as conn, conn.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall() if cr.description else None


def db_exists(db):
    return bool(query("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [db]))


def dropdb(db):
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=True)


def odoo_bin(db, modules, logfile):
    cmd = [
        sys.executable,
        f"{ODOO_SRC}/odoo-bin",
        "-d",
        db,
        "-i",
        modules,
        "--stop-after-init",
        "--without-demo=all",
        "--max-cron-threads=0",
        "--http-port=0",
        f"--addons-path={ADDONS_PATH}",
        f"--logfile={logfile}",
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd)
    seconds = time.perf_counter() - start
    with open(logfile) as f:
        errors = [line for line in f if " ERROR " in line or " CRITICAL " in line]
    if proc.returncode or errors:
        sys.exit(
            f"odoo-bin failed on {db} (rc {proc.returncode}), see {logfile}:\n"
            + "".join(errors[:20])
        )
    return seconds, cmd


def sales_count(db):
    rows = query(db, "SELECT value FROM ir_config_parameter WHERE key = %s", [MARKER])
    return int(rows[0][0]) if rows else None


# ---------------------------------------------------------------- templates


def build_empty(db, logdir):
    dropdb(db)
    subprocess.run(["createdb", db], check=True)
    log(f"Installing {BASE_MODULES} on {db} (no demo data)...")
    seconds, __ = odoo_bin(db, BASE_MODULES, os.path.join(logdir, f"{db}.log"))
    log(f"{db} built in {seconds:.0f} s")
    subprocess.run(["psql", "-d", db, "-qc", "VACUUM ANALYZE"], check=True)


def build_seed(db, seed, rng):
    """The seed sales through the ORM, in this process."""
    import odoo
    from odoo import Command, api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(
        [
            "-d",
            db,
            f"--addons-path={ADDONS_PATH}",
            "--without-demo=all",
            "--log-level=warn",
        ]
    )
    registry = Registry(db)
    today = date.today()
    with registry.cursor() as cr:
        env = api.Environment(
            cr,
            ADMIN_UID,
            {
                "tz": "UTC",
                "lang": "en_US",
                "tracking_disable": True,
                "mail_create_nolog": True,
                "mail_notrack": True,
            },
        )
        company = env.company
        tax = env["account.tax"].search(
            [
                ("type_tax_use", "=", "sale"),
                ("company_id", "=", company.id),
                ("amount", "=", 15),
            ],
            limit=1,
        )
        partners = env["res.partner"].create(
            [
                {
                    "name": f"History customer {i}",
                    "email": f"customer{i}@example.com",
                    "is_company": True,
                    "street": f"{i} Main Street",
                    "city": "Springfield",
                }
                for i in range(max(1, seed // 3))
            ]
        )
        # a contact under a third of the companies
        env["res.partner"].create(
            [
                {
                    "name": f"Contact of {p.name}",
                    "parent_id": p.id,
                    "type": "invoice",
                }
                for p in partners[::3]
            ]
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"History product {i}",
                    "type": "consu",
                    "list_price": 10.0 + 3 * i,
                    "invoice_policy": "order",
                    "taxes_id": [Command.set(tax.ids)],
                }
                for i in range(20)
            ]
        )
        days = sorted(rng.randint(1, 365) for __ in range(seed))
        days.reverse()  # oldest first
        order_dates = [today - timedelta(days=d) for d in days]
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": partners[i % len(partners)].id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": products[(i + j * 7) % len(products)].id,
                                "product_uom_qty": rng.randint(1, 10),
                            }
                        )
                        for j in range(rng.randint(1, 4))
                    ],
                }
                for i in range(seed)
            ]
        )
        orders.action_confirm()
        for order, day in zip(orders, order_dates, strict=True):
            order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=10
            )
        log(f"{seed} sales confirmed")
        partial = 0
        for order in orders[::5]:
            picking = order.picking_ids[:1]
            move = picking.move_ids[:1]
            if not move or move.product_uom_qty < 2:
                continue
            picking.move_ids.quantity = 0
            move.quantity = move.product_uom_qty // 2
            move.picked = True
            picking.with_context(skip_backorder=True, skip_sms=True).button_validate()
            partial += 1
        for order in orders[1::5]:  # fully delivered
            picking = order.picking_ids[:1]
            picking.move_ids.picked = True
            picking.with_context(skip_backorder=True, skip_sms=True).button_validate()
        log(f"deliveries done ({partial} partial)")
        cancelled = orders[7::40]._create_invoices(grouped=True)
        cancelled.button_cancel()
        invoices = orders._create_invoices(grouped=True)
        by_order = {inv.line_ids.sale_line_ids.order_id.id: inv for inv in invoices}
        for order, day in zip(orders, order_dates, strict=True):
            by_order[order.id].invoice_date = day
        for order in orders:  # in date order: invoice numbers follow dates
            by_order[order.id].action_post()
        log(f"{len(invoices)} invoices posted, {len(cancelled)} cancelled")
        credited = invoices.sorted("invoice_date")[11::30]
        credit_notes = env["account.move"]
        for inv in credited:
            credit_notes |= inv._reverse_moves(
                [
                    {
                        "invoice_date": inv.invoice_date,
                        "date": inv.invoice_date,
                        "ref": f"Credit note of {inv.name}",
                    }
                ]
            )
        credit_notes.action_post()
        log(f"{len(credit_notes)} credit notes posted")
        cr.commit()
    odoo.sql_db.close_all()


def multiply(db, seed, copies, min_partner_id):
    """Copies 1..copies of the seed rows, ids shifted, with SQL."""
    conn = connect(db, autocommit=False)
    cr = conn.cursor()
    cr.execute("SET session_replication_role = replica")  # no FK triggers
    seed_min, offset = {}, {}
    for table in HISTORY_TABLES:
        cr.execute(
            f"SELECT min(id), max(id) FROM {table} WHERE id >= %s",
            [min_partner_id if table == "res_partner" else 1],
        )
        lo, hi = cr.fetchone()
        seed_min[table], offset[table] = lo, hi  # copy k: id + k * hi
    seed_max = dict(offset)
    cr.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid::regclass::text = ANY(%s)
    """,
        [HISTORY_TABLES],
    )
    fks = {}
    for table, column, target in cr.fetchall():
        fks.setdefault(table, {})[column] = target

    def columns(table):
        cr.execute(
            """SELECT column_name, data_type FROM information_schema.columns
                       WHERE table_schema = 'public' AND table_name = %s
                       ORDER BY ordinal_position""",
            [table],
        )
        return cr.fetchall()

    def shifted(column, target, k):
        return (
            f"CASE WHEN {column} BETWEEN {seed_min[target]} AND {seed_max[target]}"
            f" THEN {column} + {k * offset[target]} ELSE {column} END"
        )

    for k in range(1, copies + 1):
        for table in HISTORY_TABLES:
            anchor = {
                "account_move_line": "move_id",
                "sale_order_line": "order_id",
            }.get(table, "id")
            new_day = f"(current_date - ((t.{anchor} * 37 + {k} * 101) % 365))"
            exprs, names = [], []
            for column, __ in columns(table):
                names.append(column)
                if column == "id":
                    expr = f"t.id + {k * offset[table]}"
                elif column in fks.get(table, {}):
                    expr = shifted(f"t.{column}", fks[table][column], k)
                elif table == "account_move" and column == "name":
                    expr = (
                        "CASE WHEN t.name IS NULL OR t.name = '/' THEN t.name "
                        f"ELSE t.name || '/C{k}' END"
                    )
                elif table == "account_move_line" and column == "move_name":
                    expr = (
                        "CASE WHEN t.move_name IS NULL OR t.move_name = '/' "
                        f"THEN t.move_name ELSE t.move_name || '/C{k}' END"
                    )
                elif table in ("account_move", "account_move_line") and column in (
                    "date",
                    "invoice_date",
                ):
                    expr = f"CASE WHEN t.{column} IS NULL THEN NULL ELSE {new_day} END"
                elif column in ("invoice_date_due", "date_maturity"):
                    expr = (
                        f"CASE WHEN t.{column} IS NULL OR t.date IS NULL "
                        f"THEN t.{column} "
                        f"ELSE {new_day} + (t.{column} - t.date) END"
                        if table in ("account_move", "account_move_line")
                        else f"t.{column}"
                    )
                elif table == "sale_order" and column == "date_order":
                    expr = f"{new_day} + interval '10 hours'"
                elif table == "sale_order" and column == "name":
                    expr = f"t.name || '/C{k}'"
                else:
                    expr = f"t.{column}"
                exprs.append(expr)
            cr.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM {table} t "
                f"WHERE t.id BETWEEN {seed_min[table]} AND {seed_max[table]}"
            )
        for table in LINK_TABLES:
            cr.execute("SELECT to_regclass(%s)", [table])
            if not cr.fetchone()[0]:
                continue
            cols = columns(table)
            tfks = fks.get(table, {})
            names = [c for c, __ in cols]
            exprs = [
                shifted(f"t.{c}", tfks[c], k) if c in tfks else f"t.{c}" for c in names
            ]
            seed_cond = " OR ".join(
                f"t.{c} BETWEEN {seed_min[tfks[c]]} AND {seed_max[tfks[c]]}"
                for c in names
                if c in tfks
            )
            cr.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM {table} t WHERE {seed_cond}"
            )
        if k % 10 == 0 or k == copies:
            log(f"copy {k}/{copies}")
    for table in HISTORY_TABLES:
        cr.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    cr.execute("RESET session_replication_role")
    conn.commit()
    conn.close()


def build_history(db, empty_db, sales, seed, logdir):
    dropdb(db)
    subprocess.run(["createdb", "-T", empty_db, db], check=True)
    copies = -(-sales // seed) - 1
    start = time.perf_counter()
    min_partner_id = query(db, "SELECT max(id) + 1 FROM res_partner")[0][0]
    log(f"Seeding {seed} sales through the ORM on {db}...")
    build_seed(db, seed, random.Random(42))
    seed_seconds = time.perf_counter() - start
    log(f"seed built in {seed_seconds:.0f} s; {copies} SQL copies...")
    multiply(db, seed, copies, min_partner_id)
    total = query(db, "SELECT count(*) FROM sale_order")[0][0]
    query(
        db,
        "INSERT INTO ir_config_parameter "
        "(key, value, create_uid, write_uid, create_date, write_date)"
        " VALUES (%s, %s, 1, 1, now(), now())",
        [MARKER, str(total)],
    )
    subprocess.run(["psql", "-d", db, "-qc", "VACUUM ANALYZE"], check=True)
    seconds = time.perf_counter() - start
    log(f"{db}: {total} sales in {seconds:.0f} s (seed {seed_seconds:.0f} s)")
    return {"seconds": seconds, "seed_seconds": seed_seconds, "sales": total}


# ---------------------------------------------------------------- measure


def core_state(db):
    rows = query(
        db,
        """SELECT c.relname, c.relfilenode FROM pg_class c
                         WHERE c.relname = ANY(%s) AND c.relkind = 'r'""",
        [CORE_TABLES],
    )
    return dict(rows)


def measure_install(template, copy, logdir):
    dropdb(copy)
    subprocess.run(["createdb", "-T", template, copy], check=True)
    query(copy, "SELECT pg_stat_reset()")
    before = core_state(copy)
    txid = query(copy, "SELECT txid_current() & 4294967295")[0][0]
    log(f"Installing the four addons on {copy}...")
    seconds, cmd = odoo_bin(copy, OUR_MODULES, os.path.join(logdir, f"{copy}.log"))
    log(f"{copy}: {seconds:.1f} s")
    time.sleep(1.5)  # statistics of the ended backends get flushed
    after = core_state(copy)
    stats = dict(
        (r[0], r[1:])
        for r in query(
            copy,
            """
        SELECT relname, n_tup_ins, n_tup_upd
          FROM pg_stat_user_tables WHERE relname = ANY(%s)
    """,
            [CORE_TABLES],
        )
    )
    tables = {}
    for table in CORE_TABLES:
        rows, written = query(
            copy,
            f"""
            SELECT count(*), count(*) FILTER (WHERE xmin::text::bigint >= %s)
              FROM {table}
        """,
            [txid],
        )[0]
        ins, upd = stats.get(table, (0, 0))
        tables[table] = {
            "rows": rows,
            "written": written,
            "ins": ins,
            "upd": upd,
            "rewritten": before.get(table) != after.get(table),
        }
    result = {
        "seconds": seconds,
        "tables": tables,
        "sales": query(copy, "SELECT count(*) FROM sale_order")[0][0],
        "amls": query(copy, "SELECT count(*) FROM account_move_line")[0][0],
        "moves": query(
            copy, "SELECT count(*) FROM account_move WHERE move_type != 'entry'"
        )[0][0],
        "cmd": cmd,
    }
    return result


def print_report(empty, history, build):
    ratio = history["seconds"] / empty["seconds"]
    print()
    print(
        f"Install of {OUR_MODULES} (odoo-bin -i, --stop-after-init, no demo), "
        f"{date.today()}, {os.cpu_count()} cores"
    )
    print()
    print(
        "| database | sales | customer invoices (incl. credit notes, cancelled) "
        "| journal items | install (s) | x empty |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in (("empty", empty), ("history", history)):
        print(
            f"| {label} | {r['sales']:,} | {r['moves']:,} | {r['amls']:,} | "
            f"{r['seconds']:.1f} | {r['seconds'] / empty['seconds']:.2f} |"
        )
    print()
    print(
        "Rows written by the install per core table (live rows whose xmin "
        "is the install's; "
        "pg_stat inserts / updates in brackets):"
    )
    print()
    print(
        "| table | rows (history) | written, empty | written, history "
        "| share of table | rewritten file |"
    )
    print("|---|---:|---:|---:|---:|---|")
    flags = []
    for table in CORE_TABLES:
        e, h = empty["tables"][table], history["tables"][table]
        share = h["written"] / h["rows"] if h["rows"] else 0
        full = share >= 0.9 and h["rows"] > 100
        if full or h["rewritten"]:
            flags.append(table)
        print(
            f"| {table} | {h['rows']:,} | "
            f"{e['written']:,} ({e['ins']:,} / {e['upd']:,}) | "
            f"{h['written']:,} ({h['ins']:,} / {h['upd']:,}) | "
            f"{share:.0%}{' FULL' if full else ''} | "
            f"{'yes' if h['rewritten'] else 'no'} |"
        )
    print()
    if build:
        print(
            f"History built in {build['seconds']:.0f} s "
            f"(ORM seed {build['seed_seconds']:.0f} s)."
        )
    print(
        f"history install {history['seconds']:.1f} s = {ratio:.2f} x empty "
        f"({empty['seconds']:.1f} s) (target 1.5x + a few seconds: "
        f"{1.5 * empty['seconds']:.1f} s + a few)"
        + (
            f"; full rewrite of {', '.join(flags)}"
            if flags
            else "; no core table fully rewritten"
        )
    )
    print()
    print("Command: " + " ".join(history["cmd"][1:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_install", help="prefix of the databases")
    parser.add_argument("--sales", type=int, default=15000, help="sales in the history")
    parser.add_argument(
        "--seed", type=int, default=250, help="sales made through the ORM"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the templates if they exist with the right size",
    )
    parser.add_argument("--keep", action="store_true", help="keep the installed copies")
    args = parser.parse_args()
    logdir = tempfile.mkdtemp(prefix="bench_install_")
    log(f"odoo logs in {logdir}")
    empty_db, history_db = f"{args.db}_empty", f"{args.db}_history"
    expected = (-(-args.sales // args.seed)) * args.seed
    if not (args.reuse and db_exists(empty_db)):
        build_empty(empty_db, logdir)
    build = None
    if not (
        args.reuse and db_exists(history_db) and sales_count(history_db) == expected
    ):
        build = build_history(history_db, empty_db, args.sales, args.seed, logdir)
    empty = measure_install(empty_db, f"{args.db}_empty_copy", logdir)
    history = measure_install(history_db, f"{args.db}_history_copy", logdir)
    print_report(empty, history, build)
    if not args.keep:
        dropdb(f"{args.db}_empty_copy")
        dropdb(f"{args.db}_history_copy")


if __name__ == "__main__":
    main()
