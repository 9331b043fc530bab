# pylint: disable=unused-argument
from collections import defaultdict
from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval


class BillingRunSelector(models.AbstractModel):
    """Decides what a run bills: the sales its rules select for its period,
    grouped into lines (one invoice each), by the customers' invoicing modes
    (``billing_run_selector_modes.py``) or replacing earlier invoices
    (``billing_run_selector_replace.py``), and the values the invoices get.
    Every method takes the run first; ``invoice_manager_stock`` extends only
    this service. The one builder of a line's values is
    ``_prepare_run_line_values``."""

    _name = "billing.run.selector"
    _description = "Billing Run Selector"

    @api.model
    def _select_line_values(self, run):
        """Values of the lines ``run`` fetches: its sales to invoice, grouped
        as the run says (invoicing modes or its grouping), and the lines
        replacing earlier invoices when it replaces them."""
        run.ensure_one()
        orders = self.env["sale.order"].search(
            self._get_fetch_domain(run), order="partner_invoice_id, id"
        )
        if run.use_invoicing_mode:
            vals_list = self._fetch_by_invoicing_mode(run, orders)
        else:
            amounts = orders._get_billing_amounts()
            orders = orders.filtered(lambda order: order.id in amounts)
            vals_list = self._prepare_line_values(run, orders, amounts)
        if run.replace_invoices:
            replaceable = self._get_replaceable_lines(run)
            if replaceable:
                vals_list += self._prepare_replace_line_values(run, replaceable)
        return vals_list

    @api.model
    def _prepare_run_line_values(
        self, run, partner, currency, orders, amounts, **extra
    ):
        """Values of one line of ``run``: invoicing ``orders`` to ``partner`` in
        ``currency``, for ``amounts`` (a list of (untaxed, total)), with the
        ``extra`` values its kind of line adds (hook)."""
        values = {
            "run_id": run.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "sale_order_ids": [Command.set(orders.ids)],
            "amount_untaxed": sum(untaxed for untaxed, __ in amounts),
            "amount_total": sum(total for __, total in amounts),
            "billing_action": run.billing_action,
        }
        values.update(extra)
        return values

    @api.model
    def _get_period_domain(self, run):
        run.ensure_one()
        # Billing users read the scenario's date field (no access to ir.model.fields).
        field = run.scenario_id.sudo().date_field_id
        if not field:
            return []
        name = field.name
        date_from = self._get_late_date_from(run) or run.date_from
        if field.ttype == "datetime":
            # The company's days, whoever runs it (stored datetimes are UTC).
            tz = run.company_id._get_billing_tz()

            def utc(day):
                local = tz.localize(datetime.combine(day, time.min))
                return local.astimezone(pytz.UTC).replace(tzinfo=None)

            stop = run.date_to + relativedelta(days=1)
            if run.use_invoicing_mode:
                return [(name, "<", utc(stop))]
            return [(name, ">=", utc(date_from)), (name, "<", utc(stop))]
        if run.use_invoicing_mode:
            # What became billable before the period and was left behind is
            # billed too (late); the modes say what is due.
            return [(name, "<=", run.date_to)]
        return [(name, ">=", date_from), (name, "<=", run.date_to)]

    @api.model
    def _get_late_date_from(self, run):
        """First day of the sales a run bills late, or None (only its period).

        The scheduler's runs of a scenario that does not follow the customers'
        modes also bill what was left behind in the periods it already ran
        (a sale approved after its period's run): from the first period the
        scheduler ran for the scenario, so that turning the scheduler on never
        bills years of forgotten history by itself."""
        run.ensure_one()
        if not run.is_scheduled_run or run.use_invoicing_mode:
            return None
        first = (
            self.env["billing.run"]
            .sudo()
            .search(
                [
                    ("scenario_id", "=", run.scenario_id.id),
                    ("is_scheduled_run", "=", True),
                    ("date_from", "<", run.date_from),
                ],
                order="date_from",
                limit=1,
            )
        )
        return first.date_from or None

    @api.model
    def _is_order_late(self, run, order):
        """Whether ``order`` belongs to a period before ``run``'s (billed late)."""
        field = run.scenario_id.sudo().date_field_id
        if not field or not run.date_from or not order[field.name]:
            return False
        value = order[field.name]
        if field.ttype == "datetime":
            value = run.company_id._to_billing_date(value)
        return value < run.date_from

    @api.model
    def _get_rule_domains(self, run):
        """{reason: domain} of the billing rules a sale must meet, each with the
        words that say why a sale that fails it is not invoiced (hook)."""
        run.ensure_one()
        rules = [
            (self.env._("it is no longer a confirmed sale"), [("state", "=", "sale")]),
            (
                self.env._("it belongs to another company"),
                [("company_id", "=", run.company_id.id)],
            ),
            (
                self.env._("its date is outside the billing period"),
                self._get_period_domain(run),
            ),
            (
                self.env._("it no longer matches the run's extra filter"),
                self._get_extra_domain(run),
            ),
        ]
        if run.partner_ids:
            reason = self.env._("its customer is not one of the run's customers")
            rules.append((reason, [("partner_id", "child_of", run.partner_ids.ids)]))
        if run.salesperson_ids:
            reason = self.env._("its salesperson is not one of the run's salespersons")
            rules.append((reason, [("user_id", "in", run.salesperson_ids.ids)]))
        if run.team_ids:
            reason = self.env._("its sales team is not one of the run's teams")
            rules.append((reason, [("team_id", "in", run.team_ids.ids)]))
        if run.tag_ids:
            reason = self.env._("it has none of the run's tags")
            rules.append((reason, [("tag_ids", "in", run.tag_ids.ids)]))
        if run.require_approval:
            reason = self.env._("it is no longer approved for invoicing")
            rules.append((reason, [("approved_for_invoicing", "=", True)]))
        elif run.company_id.billing_forbid_self_approval and not self.env.su:
            # Without the approval rule, one's own sales still need another
            # approver where the company says so.
            reason = self.env._(
                "it is your own sale, not approved for invoicing, and your "
                "company does not let salespeople bill their own sales unapproved"
            )
            rules.append(
                (
                    reason,
                    [
                        "|",
                        ("approved_for_invoicing", "=", True),
                        ("user_id", "!=", self.env.uid),
                    ],
                )
            )
        return {reason: domain for reason, domain in rules if domain}

    @api.model
    def _get_extra_domain(self, run):
        run.ensure_one()
        try:
            domain = safe_eval(run.sale_domain or "[]")
            expression.expression(domain, self.env["sale.order"])
        except Exception as error:  # pylint: disable=broad-exception-caught
            raise UserError(
                self.env._(
                    "Run %(run)s: the extra filter is not a valid domain on sales "
                    "(%(error)s). Correct it on the run or its scenario.",
                    run=run.name,
                    error=error,
                )
            ) from error
        return domain

    @api.model
    def _get_fetch_domain(self, run):
        """Domain of the sales this run invoices: the billing rules, in one domain."""
        run.ensure_one()
        domains = [
            [("invoice_status", "=", "to invoice")],
            *self._get_rule_domains(run).values(),
        ]
        kept_orders = run.line_ids.filtered(
            lambda line: line.state != "not_done" or line.invoice_ids
        ).sale_order_ids
        if run.replace_invoices:
            # Billed again whole by the lines replacing their invoices.
            kept_orders |= self._get_replaceable_lines(run).sale_order_ids
        if kept_orders:
            domains.append([("id", "not in", kept_orders.ids)])
        return expression.AND(domains)

    @api.model
    def _get_line_grouping_key(self, run, order):
        """Sales sharing a key become one line, and one invoice."""
        if run.grouping == "customer":
            return (order.partner_invoice_id.id, order.currency_id.id)
        return (order.id,)

    @api.model
    def _prepare_line_values(self, run, orders, amounts):
        run.ensure_one()
        vals_list = []
        groups = defaultdict(list)
        for order in orders:
            groups[self._get_line_grouping_key(run, order)].append(order)
        for sequence, group in enumerate(groups.values(), start=1):
            first = group[0]
            group_orders = self.env["sale.order"].union(*group)
            if len(group) > 1:
                # One invoice: its amounts as the invoice rounds them.
                group_amounts = [group_orders._get_billing_group_amounts()]
            else:
                group_amounts = [amounts[first.id]]
            vals_list.append(
                self._prepare_run_line_values(
                    run,
                    first.partner_invoice_id,
                    first.currency_id,
                    group_orders,
                    group_amounts,
                    sequence=sequence,
                    is_late=any(self._is_order_late(run, order) for order in group),
                )
            )
        return vals_list

    @api.model
    def _prepare_invoice_values(self, run, order):
        """Invoice values a run sets on top of ``order``'s own (hook): its date,
        journal, the run and line that make it; a head office invoiced for its
        site's sale is the invoice's customer (the site stays the delivery
        address)."""
        run.ensure_one()
        values = {"invoice_date": self._get_invoice_date(run), "billing_run_id": run.id}
        if run.journal_id:
            values["journal_id"] = run.journal_id.id
        line = self.env["billing.run.line"].browse(
            (self.env.context.get("billing_run_line_by_order") or {}).get(order.id)
        )
        if line:
            values["billing_run_line_id"] = line.id
            if line.head_office_invoicing:
                values["partner_id"] = line.partner_id.id
        return values

    @api.model
    def _get_invoice_date(self, run):
        run.ensure_one()
        if run.invoice_date_mode == "fixed" and run.invoice_date:
            return run.invoice_date
        if run.invoice_date_mode == "period_end" and run.date_to:
            return run.date_to
        return run.company_id._get_billing_today()
