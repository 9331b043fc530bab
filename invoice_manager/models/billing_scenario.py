import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

BILLING_ACTIONS = [
    ("email", "Email"),
    ("print", "Print"),
    ("create_only", "Create Only"),
]
INVOICE_DATE_MODES = [
    ("today", "Processing Date"),
    ("period_end", "End of the Billing Period"),
    ("fixed", "Fixed Date"),
]


class BillingScenario(models.Model):
    _name = "billing.scenario"
    _description = "Billing Scenario"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    description = fields.Text(translate=True)

    # Billing rules: which sales the scenario selects.
    period_type = fields.Selection(
        [("month", "Calendar Month"), ("week", "Week"), ("day", "Day")],
        string="Billing Period",
        required=True,
        default="month",
        help="Length of the billing period proposed by the Invoice Manager: the next "
        "period this scenario has not invoiced yet, else the previous one.",
    )
    date_field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        domain=[
            ("model", "=", "sale.order"),
            ("ttype", "in", ("date", "datetime")),
            ("store", "=", True),
        ],
        default=lambda self: self.env.ref("sale.field_sale_order__date_order"),
        help="The sale's date that must fall in the billing period.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        check_company=True,
        help="Leave empty for all customers.",
    )
    user_ids = fields.Many2many(
        "res.users", string="Salespersons", help="Leave empty for all salespersons."
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales Teams",
        check_company=True,
        help="Leave empty for all sales teams.",
    )
    tag_ids = fields.Many2many(
        "crm.tag", string="Tags", help="Sales with any of these tags; empty: all."
    )
    sale_domain = fields.Char(
        string="Extra Filter",
        default="[]",
        help="Any further condition on the sales, edited with Odoo's domain editor.",
    )
    require_approval = fields.Boolean(
        string="Approved for Invoicing Only",
        default=True,
        help="Only sales marked 'Approved for Invoicing' are fetched.",
    )

    # Defaults of the runs.
    billing_action = fields.Selection(
        BILLING_ACTIONS,
        string="Default Billing Action",
        required=True,
        default="email",
    )
    invoice_date_mode = fields.Selection(
        INVOICE_DATE_MODES,
        string="Invoice Date",
        required=True,
        default="today",
    )
    invoice_date = fields.Date(string="Fixed Invoice Date")
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Leave empty to use each sale's invoicing journal.",
    )
    grouping = fields.Selection(
        [("order", "One Invoice per Order"), ("customer", "One Invoice per Customer")],
        required=True,
        default="order",
    )
    use_invoicing_mode = fields.Boolean(
        string="Follow the Customers' Invoicing Modes",
        help="Invoice each customer as its invoicing mode says (per shipment, per "
        "order once fully delivered, or one batch invoice per period) and "
        "invoice head offices for their sites. The sales' dates then only need "
        "to fall on or before the period's end: what became billable earlier "
        "and was left behind is billed too, marked late. The grouping above is "
        "not used.",
    )
    auto_post = fields.Boolean(
        string="Post Invoices",
        default=True,
        help="Post the invoices; otherwise they stay in draft (an Email or Print "
        "line still needs a posted invoice, so it posts them).",
    )
    post_invoicing_tasks = fields.Boolean(
        string="Post-Invoicing Tasks",
        default=True,
        help="Email, print and any follow-up of the invoices, as each line's billing "
        "action says. Off: runs only create the invoices.",
    )
    is_scheduled = fields.Boolean(
        string="Invoice Automatically",
        help="Odoo's scheduler invoices the last closed billing period of this "
        "scenario by itself, as a billing run processed in the background; the "
        "Billing Managers are told the outcome.",
    )
    run_ids = fields.One2many("billing.run", "scenario_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")
    last_date_to = fields.Date(
        string="Invoiced Until",
        compute="_compute_last_date_to",
        help="End of the last billing period a run of this scenario processed.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(not vals.get("require_approval", True) for vals in vals_list):
            self.env["billing.run"]._check_can_relax_approval()
        return super().create(vals_list)

    def write(self, vals):
        if "require_approval" in vals and not vals["require_approval"]:
            self.env["billing.run"]._check_can_relax_approval()
        return super().write(vals)

    @api.constrains("invoice_date_mode", "invoice_date")
    def _check_invoice_date(self):
        for scenario in self:
            if scenario.invoice_date_mode == "fixed" and not scenario.invoice_date:
                raise ValidationError(
                    self.env._(
                        "Scenario %s: set the fixed invoice date.", scenario.name
                    )
                )

    @api.constrains("sale_domain")
    def _check_sale_domain(self):
        for scenario in self:
            try:
                domain = safe_eval(scenario.sale_domain or "[]")
                self.env["sale.order"]._search(domain)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Scenario %(name)s: the extra filter is not a valid domain "
                        "on sales (%(error)s).",
                        name=scenario.name,
                        error=error,
                    )
                ) from error

    def _compute_run_count(self):
        counts = dict(
            self.env["billing.run"]._read_group(
                [("scenario_id", "in", self.ids)], ["scenario_id"], ["__count"]
            )
        )
        for scenario in self:
            scenario.run_count = counts.get(scenario, 0)

    @api.depends("run_ids.state", "run_ids.date_to")
    def _compute_last_date_to(self):
        last = dict(
            self.env["billing.run"]._read_group(
                [("scenario_id", "in", self.ids), ("state", "=", "done")],
                ["scenario_id"],
                ["date_to:max"],
            )
        )
        for scenario in self:
            scenario.last_date_to = last.get(scenario, False)

    def _get_period_delta(self):
        self.ensure_one()
        return {
            "month": relativedelta(months=1),
            "week": relativedelta(weeks=1),
            "day": relativedelta(days=1),
        }[self.period_type]

    def _get_period_start(self, day):
        """First day of the period of this scenario's type that contains ``day``."""
        self.ensure_one()
        if self.period_type == "month":
            return day.replace(day=1)
        if self.period_type == "week":
            return day - relativedelta(days=day.weekday())
        return day

    def _get_next_period(self, today=None):
        """(date_from, date_to) a new run proposes.

        The period after the last one a run of this scenario processed; with no
        such run, the previous period (the previous calendar month for monthly
        scenarios).
        """
        self.ensure_one()
        today = today or self.company_id._get_billing_today()
        delta = self._get_period_delta()
        if self.last_date_to:
            date_from = self.last_date_to + relativedelta(days=1)
        else:
            date_from = self._get_period_start(today) - delta
        date_from = self._get_period_start(date_from)
        return date_from, date_from + delta - relativedelta(days=1)

    def _get_sale_domain(self):
        self.ensure_one()
        return safe_eval(self.sale_domain or "[]")

    def _get_next_cycle(self, partners=None, orders=None, today=None):
        """(date_from, date_to) of the next billing cycle to invoice for
        ``partners`` (or ``orders``): the period of their oldest sale still to
        invoice under this scenario's rules, so that sales left behind in an
        earlier period are not lost; the scenario's next period otherwise."""
        self.ensure_one()
        next_period = self._get_next_period(today=today)
        if not partners and not orders:
            return next_period
        field = self.sudo().date_field_id
        domain = [
            ("state", "=", "sale"),
            ("invoice_status", "=", "to invoice"),
            ("company_id", "=", self.company_id.id),
        ]
        if self.require_approval:
            domain.append(("approved_for_invoicing", "=", True))
        if partners:
            domain.append(("partner_id", "child_of", partners.ids))
        if orders:
            domain.append(("id", "in", orders.ids))
        oldest = self.env["sale.order"].search(
            domain, order=f"{field.name} asc, id asc", limit=1
        )
        day = oldest[field.name] if oldest else False
        if not day:
            return next_period
        if field.ttype == "datetime":
            day = self.company_id._to_billing_date(day)
        if day >= next_period[0]:
            return next_period
        date_from = self._get_period_start(day)
        return date_from, date_from + self._get_period_delta() - relativedelta(days=1)

    def _get_last_closed_period(self, today=None):
        """(date_from, date_to) of the last period of this scenario's type that
        ended before ``today``."""
        self.ensure_one()
        today = today or self.company_id._get_billing_today()
        date_to = self._get_period_start(today) - relativedelta(days=1)
        return self._get_period_start(date_to), date_to

    @api.model
    def _cron_invoice_scheduled_scenarios(self):
        """Scheduler: invoice the last closed period of every scheduled scenario.

        One run per scenario and period, whatever the number of ticks: a tick
        finds the run an earlier one made (fetched or being processed) and
        leaves it to the processing job, or takes up its own run left at the
        billing rules step (never a user's); a processed period is never
        invoiced again. Each scenario
        is a transaction of its own (committed), so one failing scenario does
        not stop the others.
        """
        scenarios = self.search(self._get_scheduled_domain())
        for scenario in scenarios:
            scenario = scenario.with_company(scenario.company_id)
            try:
                with self.env.cr.savepoint():
                    scenario._start_scheduled_run()
            except Exception:  # pylint: disable=broad-exception-caught
                # Logged with its traceback; the scenario is tried again next tick.
                _logger.exception("Scheduled billing scenario %s failed", scenario.id)
            self.env["billing.run.executor"]._commit()

    @api.model
    def _get_scheduled_domain(self):
        return [("is_scheduled", "=", True)]

    def _start_scheduled_run(self):
        """Fetch and queue the scheduler's run of the last closed period (once).

        Only the scheduler's own runs are taken up: a run a user made for the
        same period stays the user's, processed when the user says so."""
        self.ensure_one()
        date_from, date_to = self._get_last_closed_period()
        Run = self.env["billing.run"]
        run = Run.search(
            [
                ("scenario_id", "=", self.id),
                ("date_from", "=", date_from),
                ("date_to", "=", date_to),
                ("is_scheduled_run", "=", True),
            ],
            order="id",
            limit=1,
        )
        if run.state in ("processing", "done"):
            return run
        if not run:
            # Marked as the scheduler's: a result field, written in sudo.
            run = (
                Run.sudo()
                .create(
                    {
                        "scenario_id": self.id,
                        "date_from": date_from,
                        "date_to": date_to,
                        "is_scheduled_run": True,
                    }
                )
                .sudo(False)
            )
        run.action_fetch()
        run.action_process()
        return run

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "invoice_manager.billing_run_action"
        )
        action["domain"] = [("scenario_id", "=", self.id)]
        action["context"] = {"default_scenario_id": self.id}
        return action

    def action_open_invoice_manager(self):
        """Start a run of this scenario at the billing rules step."""
        self.ensure_one()
        run = self.env["billing.run"].create({"scenario_id": self.id})
        return run._get_records_action()
