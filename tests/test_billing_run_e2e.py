"""A billing run as it really runs: committed chunk by chunk, PDFs rendered by
wkhtmltopdf in worker transactions, two runs racing over the same sales.

Uses the database that scripts/test.sh installed for the Odoo tests
(BILLING_TEST_DB), or creates one (fixture ``database`` in conftest.py).
"""

import os
import tempfile

from odoo_script import result_of

RUN = """
from datetime import date, timedelta
with registry.cursor() as cr:
    env = env_of(cr)
    scenario = env["billing.scenario"].search([("name", "=", "E2E {tag}")])
    today = date.today()
    run = env["billing.run"].create({{
        "scenario_id": scenario.id,
        "date_from": today - timedelta(days=60), "date_to": today,
    }})
    run.action_fetch()
    cr.commit()
    {before_process}
    run.action_process(force_synchronous=True)
    cr.commit()
    env.invalidate_all()
    lines = run.line_ids
    mails = env["mail.mail"].search(
        [("model", "=", "account.move"), ("res_id", "in", lines.invoice_ids.ids)])
    report(
        run=run.id,
        run_name=run.name,
        run_state=run.state,
        states=sorted(lines.mapped("state")),
        errors=sorted(set(lines.filtered(
            lambda line: line.state == "error").mapped("error_message"))),
        elsewhere=[
            [line.sale_order_ids.invoice_ids.filtered(
                lambda m: m.state != "cancel").ids, line.elsewhere_invoice_ids.ids,
             line.elsewhere_run_ids.mapped("name"), line.error_message]
            for line in lines.filtered(lambda line: line.state == "elsewhere")
        ],
        channels=sorted(set(lines.mapped("delivery_channel")) - {{False}}),
        invoices=len(lines.invoice_ids),
        invoice_totals=sorted(set(lines.invoice_ids.mapped("amount_total"))),
        posted=set(lines.invoice_ids.mapped("state")) == {{"posted"}},
        with_pdf=len(lines.invoice_ids.filtered("invoice_pdf_report_id")),
        mails_with_pdf=len(mails.filtered("attachment_ids")),
        print_pdf=(run.print_attachment_id.raw or b"")[:4].decode(),
        invoices_per_order=sorted(
            len(order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"))
            for order in env["sale.order"].search([("tag_ids.name", "=", "{tag}")])
        ),
    )
"""


COUNT = """
with registry.cursor() as cr:
    env = env_of(cr)
    orders = env["sale.order"].search([("tag_ids.name", "=", "{tag}")])
    moves = orders.invoice_ids
    report(
        invoices_per_order=sorted(
            len(order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"))
            for order in orders
        ),
        drafts=len(moves.filtered(lambda m: m.state == "draft")),
        billed=round(sum(moves.mapped("amount_total_signed")), 2),
    )
"""


def _run_body(tag, before_process=""):
    return RUN.format(tag=tag, before_process=before_process)


def test_email_and_print_run_commits_and_renders_on_workers(database):
    """12 sales (one customer without email): PDFs rendered by wkhtmltopdf in
    worker transactions, emails queued with them, one merged PDF to print."""
    tag = database.make_sales(12, "email")
    # Half the lines printed, half emailed.
    before = (
        "for line in run.line_ids[::2]:\n"
        "        line.billing_action = 'print'\n"
        "    cr.commit()"
    )
    result = database.run(_run_body(tag, before))
    # The second customer has no email address: its Email line fails, alone.
    assert len(result["errors"]) == 1
    assert "has no email address" in result["errors"][0]
    assert result["states"] == ["error"] + ["processed"] * 11
    assert result["channels"] == ["email", "print"]
    assert result["posted"]
    # 2 x 100.00 + 15 % tax = 230.00 for every invoice.
    assert result["invoice_totals"] == [230.0]
    assert result["invoices"] == 11
    assert result["with_pdf"] == 11
    assert result["mails_with_pdf"] == 5
    assert result["print_pdf"] == "%PDF"
    assert result["invoices_per_order"] == [0] + [1] * 11


def test_processing_again_in_new_transactions_invoices_nothing_twice(database):
    tag = database.make_sales(6, "create_only")
    first = database.run(_run_body(tag))
    second = database.run(_run_body(tag))
    assert first["states"] == ["processed"] * 6
    assert second["states"] == [], "nothing left to fetch"
    assert second["invoices_per_order"] == [1] * 6


def test_two_runs_racing_over_the_same_sales_invoice_each_sale_once(database):
    """Two Odoo processes fetch the same 300 sales, then process them at the same
    moment: every sale invoiced exactly once, none left out, and each line the
    other run invoiced shows that invoice and that run, not an error."""
    count = 300
    tag = database.make_sales(count, "create_only")
    # Both fetch first, then wait on a barrier file so that they process together.
    barrier = tempfile.mktemp()
    wait = (
        "import os, time\n"
        f"    open({barrier!r} + str(os.getpid()), 'w').close()\n"
        "    deadline = time.time() + 120\n"
        "    while len([f for f in os.listdir(os.path.dirname("
        f"{barrier!r})) if f.startswith(os.path.basename({barrier!r}))]) < 2"
        " and time.time() < deadline:\n"
        "        time.sleep(0.05)"
    )
    racers = [database.start(_run_body(tag, wait)) for __ in range(2)]
    results = [result_of(racer, timeout=900) for racer in racers]
    for name in os.listdir(os.path.dirname(barrier)):
        if name.startswith(os.path.basename(barrier)):
            os.unlink(os.path.join(os.path.dirname(barrier), name))
    # Counted once both have committed.
    final = database.run(COUNT.format(tag=tag))
    assert final["invoices_per_order"] == [1] * count, "each sale invoiced once"
    assert final["drafts"] == 0
    # 2 x 100.00 + 15 % for each sale, billed once.
    assert final["billed"] == 230.0 * count
    processed = sum(result["states"].count("processed") for result in results)
    assert processed == count, "none left out, none twice"
    for result, other in (results, results[::-1]):
        assert result["run_state"] == "done"
        assert result["errors"] == []
        assert set(result["states"]) <= {"processed", "elsewhere"}
        for sale_invoices, shown, runs, message in result["elsewhere"]:
            assert shown == sale_invoices, "the line shows the other run's invoice"
            assert runs == [other["run_name"]]
            assert other["run_name"] in message
