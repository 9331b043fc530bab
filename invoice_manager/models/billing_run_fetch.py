# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

# A run left at the billing rules step without a line is removed after this
# many days untouched (Odoo's autovacuum): each Next makes a run at once.
ABANDONED_RUN_DAYS = 2


class BillingRun(models.Model):
    """Fetching: the lines the selector (``billing.run.selector``) makes, and
    the other open runs over the same sales."""

    _inherit = "billing.run"

    overlapping_run_ids = fields.Many2many(
        "billing.run",
        string="Open Runs over the Same Sales",
        compute="_compute_overlapping_run_ids",
        help="Other runs of this scenario, over an overlapping period and not "
        "processed yet, whose lines still to bill hold some of these sales.",
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if self.env["billing.run.line"].search_count(
            [("run_id", "in", self.ids), ("invoice_ids", "!=", False)], limit=1
        ):
            raise UserError(
                self.env._(
                    "A billing run that made invoices is kept as their record: "
                    "it cannot be deleted."
                )
            )
        if "processing" in self.mapped("state"):
            raise UserError(self.env._("A run being processed cannot be deleted."))

    @api.model
    def _get_abandoned_runs_domain(self):
        """Runs a *Next* made and nobody fetched, processed or planned anything
        on since (hook)."""
        return [
            ("state", "=", "ready"),
            ("fetch_date", "=", False),
            ("line_ids", "=", False),
            ("activity_ids", "=", False),
            ("is_scheduled_run", "=", False),
            (
                "write_date",
                "<",
                fields.Datetime.now() - timedelta(days=ABANDONED_RUN_DAYS),
            ),
        ]

    @api.autovacuum
    def _gc_abandoned_runs(self):
        """Remove the runs left behind at the first step: never fetched, no
        line, no planned activity, untouched for two days. A run fetched (even
        finding nothing), processed or scheduled is never removed."""
        self.sudo().search(self._get_abandoned_runs_domain()).unlink()

    def action_fetch(self):
        """Fill the run with one line per invoice to make (idempotent): lines still
        to process are fetched anew, lines with a result or an invoice are kept."""
        self._check_editable()
        for run in self:
            run = run.with_company(run.company_id)
            run.line_ids.filtered(
                lambda line: line.state == "not_done" and not line.invoice_ids
            ).sudo().unlink()
            vals_list = run.env["billing.run.selector"]._select_line_values(run)
            self.env["billing.run.line"].sudo().create(vals_list)
            run.sudo().fetch_date = fields.Datetime.now()
        return True

    def action_apply_billing_action(self):
        """Set the run's billing action on every line it will process (still to
        process, or in error or not invoiced after Reopen)."""
        self._check_editable()
        for run in self:
            run.line_ids.filtered(lambda line: line._is_action_editable()).write(
                {"billing_action": run.billing_action}
            )
        return True

    @api.depends("line_ids.sale_order_ids", "scenario_id", "date_from", "date_to")
    def _compute_overlapping_run_ids(self):
        """Other open runs of the same scenario and an overlapping period that
        hold some of this run's sales on lines still to process: processing
        both would leave one of them with lines invoiced elsewhere."""
        Line = self.env["billing.run.line"]
        for run in self:
            orders = run.line_ids.sale_order_ids
            if not orders or not run.date_from or not run.date_to:
                run.overlapping_run_ids = False
                continue
            lines = Line.search(
                run._get_overlapping_lines_domain(orders), order="run_id"
            )
            run.overlapping_run_ids = lines.run_id

    def _get_overlapping_lines_domain(self, orders):
        self.ensure_one()
        return [
            ("run_id", "!=", self.id),
            ("run_id.scenario_id", "=", self.scenario_id.id),
            ("run_id.state", "in", ("ready", "processing")),
            ("run_id.date_from", "<=", self.date_to),
            ("run_id.date_to", ">=", self.date_from),
            ("state", "in", ("not_done", "error", "skipped")),
            ("invoice_ids", "=", False),
            ("sale_order_ids", "in", orders.ids),
        ]

    def action_open_overlapping_runs(self):
        self.ensure_one()
        runs = self.overlapping_run_ids
        action = {
            "type": "ir.actions.act_window",
            "res_model": "billing.run",
            "name": self.env._("Open Runs over the Same Sales"),
        }
        if len(runs) == 1:
            return {**action, "view_mode": "form", "res_id": runs.id}
        return {
            **action,
            "view_mode": "list,form",
            "domain": [("id", "in", runs.ids)],
        }
