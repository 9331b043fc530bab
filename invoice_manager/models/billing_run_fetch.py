# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from collections import defaultdict
from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval


class BillingRun(models.Model):
    """Fetching: the run's rules as domains, and the lines they select."""

    _inherit = "billing.run"

    overlapping_run_ids = fields.Many2many(
        "billing.run",
        string="Open Runs over the Same Sales",
        compute="_compute_overlapping_run_ids",
        help="Other runs of this scenario, over an overlapping period and not "
        "processed yet, whose lines still to bill hold some of these sales.",
    )

    def _get_period_domain(self):
        self.ensure_one()
        # Billing users read the scenario's date field (no access to ir.model.fields).
        field = self.scenario_id.sudo().date_field_id
        if not field:
            return []
        name = field.name
        if field.ttype == "datetime":
            # The period's days are the user's (stored datetimes are UTC).
            tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")

            def utc(day):
                local = tz.localize(datetime.combine(day, time.min))
                return local.astimezone(pytz.UTC).replace(tzinfo=None)

            stop = self.date_to + relativedelta(days=1)
            if self.use_invoicing_mode:
                return [(name, "<", utc(stop))]
            return [(name, ">=", utc(self.date_from)), (name, "<", utc(stop))]
        if self.use_invoicing_mode:
            # What became billable before the period and was left behind is
            # billed too (late); the modes say what is due.
            return [(name, "<=", self.date_to)]
        return [(name, ">=", self.date_from), (name, "<=", self.date_to)]

    def _get_rule_domains(self):
        """{reason: domain} of the billing rules a sale must meet, each with the
        words that say why a sale that fails it is not invoiced (hook)."""
        self.ensure_one()
        rules = [
            (self.env._("it is no longer a confirmed sale"), [("state", "=", "sale")]),
            (
                self.env._("it belongs to another company"),
                [("company_id", "=", self.company_id.id)],
            ),
            (
                self.env._("its date is outside the billing period"),
                self._get_period_domain(),
            ),
            (
                self.env._("it no longer matches the run's extra filter"),
                self._get_extra_domain(),
            ),
        ]
        if self.partner_ids:
            reason = self.env._("its customer is not one of the run's customers")
            rules.append((reason, [("partner_id", "child_of", self.partner_ids.ids)]))
        if self.salesperson_ids:
            reason = self.env._("its salesperson is not one of the run's salespersons")
            rules.append((reason, [("user_id", "in", self.salesperson_ids.ids)]))
        if self.team_ids:
            reason = self.env._("its sales team is not one of the run's teams")
            rules.append((reason, [("team_id", "in", self.team_ids.ids)]))
        if self.tag_ids:
            reason = self.env._("it has none of the run's tags")
            rules.append((reason, [("tag_ids", "in", self.tag_ids.ids)]))
        if self.require_approval:
            reason = self.env._("it is no longer approved for invoicing")
            rules.append((reason, [("approved_for_invoicing", "=", True)]))
        return {reason: domain for reason, domain in rules if domain}

    def _get_extra_domain(self):
        self.ensure_one()
        try:
            domain = safe_eval(self.sale_domain or "[]")
            expression.expression(domain, self.env["sale.order"])
        except Exception as error:  # pylint: disable=broad-exception-caught
            raise UserError(
                self.env._(
                    "Run %(run)s: the extra filter is not a valid domain on sales "
                    "(%(error)s). Correct it on the run or its scenario.",
                    run=self.name,
                    error=error,
                )
            ) from error
        return domain

    def _get_fetch_domain(self):
        """Domain of the sales this run invoices: the billing rules, in one domain."""
        self.ensure_one()
        domains = [
            [("invoice_status", "=", "to invoice")],
            *self._get_rule_domains().values(),
        ]
        kept_orders = self.line_ids.filtered(
            lambda line: line.state != "not_done" or line.invoice_ids
        ).sale_order_ids
        if self.replace_invoices:
            # Billed again whole by the lines replacing their invoices.
            kept_orders |= self._get_replaceable_lines().sale_order_ids
        if kept_orders:
            domains.append([("id", "not in", kept_orders.ids)])
        return expression.AND(domains)

    def action_fetch(self):
        """Fill the run with one line per invoice to make (idempotent): lines still
        to process are fetched anew, lines with a result or an invoice are kept."""
        self._check_editable()
        for run in self:
            run = run.with_company(run.company_id)
            run.line_ids.filtered(
                lambda line: line.state == "not_done" and not line.invoice_ids
            ).sudo().unlink()
            orders = self.env["sale.order"].search(
                run._get_fetch_domain(), order="partner_invoice_id, id"
            )
            if run.use_invoicing_mode:
                vals_list = run._fetch_by_invoicing_mode(orders)
            else:
                amounts = orders._get_billing_amounts()
                orders = orders.filtered(
                    lambda order, amounts=amounts: order.id in amounts
                )
                vals_list = run._prepare_line_values(orders, amounts)
            if run.replace_invoices:
                replaceable = run._get_replaceable_lines()
                if replaceable:
                    vals_list += run._prepare_replace_line_values(replaceable)
            self.env["billing.run.line"].sudo().create(vals_list)
            run.sudo().fetch_date = fields.Datetime.now()
        return True

    def _get_line_grouping_key(self, order):
        """Sales sharing a key become one line, and one invoice."""
        if self.grouping == "customer":
            return (order.partner_invoice_id.id, order.currency_id.id)
        return (order.id,)

    def _prepare_line_values(self, orders, amounts):
        self.ensure_one()
        vals_list = []
        groups = defaultdict(list)
        for order in orders:
            groups[self._get_line_grouping_key(order)].append(order)
        for sequence, group in enumerate(groups.values(), start=1):
            first = group[0]
            vals_list.append(
                {
                    "run_id": self.id,
                    "sequence": sequence,
                    "partner_id": first.partner_invoice_id.id,
                    "currency_id": first.currency_id.id,
                    "sale_order_ids": [Command.set([order.id for order in group])],
                    "amount_untaxed": sum(amounts[order.id][0] for order in group),
                    "amount_total": sum(amounts[order.id][1] for order in group),
                    "billing_action": self.billing_action,
                }
            )
        return vals_list

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
