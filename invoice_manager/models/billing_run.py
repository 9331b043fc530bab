from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression

from .billing_scenario import BILLING_ACTIONS, INVOICE_DATE_MODES

# The billing rule values a run copies from its scenario: editable at the billing
# rules step only.
RULE_FIELDS = (
    "scenario_id",
    "date_from",
    "date_to",
    "partner_ids",
    "salesperson_ids",
    "team_ids",
    "tag_ids",
    "sale_domain",
    "require_approval",
    "billing_action",
    "invoice_date_mode",
    "invoice_date",
    "journal_id",
    "grouping",
    "auto_post",
    "use_invoicing_mode",
    "post_invoicing_tasks",
    "replace_invoices",
)
# What the run's own methods record: never written by users, even over RPC.
RESULT_FIELDS = (
    "state",
    "company_id",
    "user_id",
    "fetch_date",
    "process_date",
    "process_uid",
    "print_attachment_id",
    "is_scheduled_run",
)


class BillingRun(models.Model):
    """One invoicing of a billing scenario's sales.

    A run is made from a scenario (the Invoice Manager's first step,
    ``billing.run.wizard``, or ``create()`` by a script) at the billing rules
    step (``ready``): the rule values are editable, *Fetch* fills the lines.
    *Process* hands the run to Odoo's scheduler (``processing``); a processed run
    (``done``) is kept with every line's result and can be reopened.
    """

    _name = "billing.run"
    _description = "Billing Run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    scenario_id = fields.Many2one(
        "billing.scenario",
        string="Billing Scenario",
        required=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
        readonly=True,
        required=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("ready", "Billing Rules"),
            ("processing", "Processing"),
            ("done", "Processed"),
        ],
        default="ready",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Run by",
        default=lambda self: self.env.user,
        readonly=True,
        copy=False,
    )

    # Billing rule values, prefilled from the scenario and editable.
    date_from = fields.Date(
        string="Period From", compute="_compute_period", store=True, readonly=False
    )
    date_to = fields.Date(
        string="Period To", compute="_compute_period", store=True, readonly=False
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        check_company=True,
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    salesperson_ids = fields.Many2many(
        "res.users",
        string="Salespersons",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales Teams",
        check_company=True,
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    tag_ids = fields.Many2many(
        "crm.tag", string="Tags", compute="_compute_rules", store=True, readonly=False
    )
    sale_domain = fields.Char(
        string="Extra Filter on Sales",
        compute="_compute_rules",
        store=True,
        readonly=False,
        help="A further condition on the sales. The count the editor shows is of "
        "every sale this condition alone matches, not of the sales to bill: "
        "Fetch Sales gives those.",
    )
    require_approval = fields.Boolean(
        string="Approved for Invoicing Only",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    billing_action = fields.Selection(
        BILLING_ACTIONS,
        compute="_compute_rules",
        store=True,
        readonly=False,
        help="The billing action of new lines; 'Apply to All Lines' sets it on every "
        "line still to process.",
    )
    invoice_date_mode = fields.Selection(
        INVOICE_DATE_MODES,
        string="Invoice Date",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    invoice_date = fields.Date(
        string="Fixed Invoice Date",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    journal_id = fields.Many2one(
        "account.journal",
        compute="_compute_rules",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type', '=', 'sale')]",
    )
    grouping = fields.Selection(
        [("order", "One Invoice per Order"), ("customer", "One Invoice per Customer")],
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    auto_post = fields.Boolean(
        string="Post Invoices", compute="_compute_rules", store=True, readonly=False
    )
    use_invoicing_mode = fields.Boolean(
        string="Follow the Customers' Invoicing Modes",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    replace_invoices = fields.Boolean(
        string="Replace Existing Invoices",
        help="Invoice again the customers of this period already invoiced by an "
        "earlier run of the scenario: a draft is regenerated in place, a posted "
        "invoice is reversed by a credit note and a new invoice made. Off, "
        "nothing is ever invoiced twice.",
    )
    post_invoicing_tasks = fields.Boolean(
        string="Post-Invoicing Tasks",
        compute="_compute_rules",
        store=True,
        readonly=False,
        help="Email, print and any follow-up of the invoices, as each line's billing "
        "action says. Off: the invoices are only created, whatever the lines' "
        "billing actions.",
    )

    line_ids = fields.One2many("billing.run.line", "run_id", string="Sales")
    fetch_date = fields.Datetime(string="Fetched on", readonly=True, copy=False)
    process_date = fields.Datetime(string="Processed on", readonly=True, copy=False)
    process_uid = fields.Many2one(
        "res.users", string="Processed by", readonly=True, copy=False
    )
    print_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Printed Invoices",
        readonly=True,
        copy=False,
        check_company=True,
    )
    is_scheduled_run = fields.Boolean(
        string="Scheduled",
        readonly=True,
        copy=False,
        help="Made by Odoo's scheduler for a scheduled scenario.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("scenario_id")
    def _compute_company_id(self):
        for run in self:
            if run.scenario_id:
                run.company_id = run.scenario_id.company_id

    @api.depends("scenario_id")
    def _compute_period(self):
        for run in self:
            if run.scenario_id:
                run.date_from, run.date_to = run.scenario_id._get_next_period()

    @api.depends("scenario_id")
    def _compute_rules(self):
        for run in self:
            run.update(run._prepare_rule_values(run.scenario_id))

    @api.model
    def _prepare_rule_values(self, scenario):
        """Values of a run's billing rules, copied from ``scenario``."""
        return {
            "partner_ids": [Command.set(scenario.partner_ids.ids)],
            "salesperson_ids": [Command.set(scenario.user_ids.ids)],
            "team_ids": [Command.set(scenario.team_ids.ids)],
            "tag_ids": [Command.set(scenario.tag_ids.ids)],
            "sale_domain": scenario.sale_domain or "[]",
            "require_approval": scenario.require_approval if scenario else True,
            "billing_action": scenario.billing_action or "email",
            "invoice_date_mode": scenario.invoice_date_mode or "today",
            "invoice_date": scenario.invoice_date,
            "journal_id": scenario.journal_id.id,
            "grouping": scenario.grouping or "order",
            "auto_post": scenario.auto_post if scenario else True,
            "use_invoicing_mode": scenario.use_invoicing_mode,
            "post_invoicing_tasks": scenario.post_invoicing_tasks if scenario else True,
        }

    def _search_lines(self, domain=None):
        """The run's lines that match ``domain``, found by the database: the
        processing of a run of tens of thousands of lines never loads them all
        to pick a few (hook)."""
        self.ensure_one()
        return self.env["billing.run.line"].search(
            expression.AND([[("run_id", "=", self.id)], domain or []])
        )

    # ------------------------------------------------------------------
    # CRUD and rights
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._check_result_fields_untouched(vals, creating=True)
        for vals in vals_list:
            self._complete_rule_values(vals)
            scenario = self.env["billing.scenario"].browse(vals.get("scenario_id"))
            if scenario.require_approval and not vals.get("require_approval"):
                self._check_can_relax_approval()
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("billing.run") or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._check_result_fields_untouched(vals)
            if set(vals) & set(RULE_FIELDS):
                self._check_editable()
            if "require_approval" in vals and not vals["require_approval"]:
                self._check_can_relax_approval()
        return super().write(vals)

    @api.model
    def _check_can_relax_approval(self):
        """Billing sales not approved for invoicing is the approvers' call: a
        run (or scenario) without the approval rule is theirs to make."""
        if self.env.su:
            return
        try:
            self.env["sale.order"]._check_billing_approval_rights()
        except AccessError as error:
            raise AccessError(
                self.env._(
                    "Only users with the right to approve sales for invoicing can "
                    "bill sales that are not approved (untick “Approved for "
                    "Invoicing Only”)."
                )
            ) from error

    @api.model
    def _complete_rule_values(self, vals):
        """Fill the rule values ``vals`` leaves out from its scenario.

        Odoo computes none of the fields of one compute method when ``create()``
        is given any of them: a script giving only the tags would get a run
        without billing action or period.
        """
        scenario = self.env["billing.scenario"].browse(vals.get("scenario_id"))
        if not scenario:
            return
        defaults = self._prepare_rule_values(scenario)
        if not {"date_from", "date_to"} <= set(vals):
            defaults["date_from"], defaults["date_to"] = scenario._get_next_period()
        for name, value in defaults.items():
            vals.setdefault(name, value)

    @api.model
    def _check_result_fields_untouched(self, vals, creating=False):
        """A run's state and results change through its own methods only."""
        touched = set(vals) & set(RESULT_FIELDS)
        if creating:
            # A new run starts at the billing rules step, in its scenario's company.
            touched -= {"company_id", "user_id"}
            if vals.get("state", "ready") == "ready":
                touched.discard("state")
        if touched:
            raise AccessError(
                self.env._(
                    "A billing run's %(fields)s change only through its own "
                    "actions (Fetch, Process, Reopen).",
                    fields=", ".join(sorted(touched)),
                )
            )

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for run in self:
            if run.date_from and run.date_to and run.date_from > run.date_to:
                raise ValidationError(
                    self.env._(
                        "Run %(run)s: the billing period ends (%(end)s) before it "
                        "starts (%(start)s).",
                        run=run.name,
                        start=run.date_from,
                        end=run.date_to,
                    )
                )

    def _check_editable(self):
        for run in self:
            if run.state != "ready":
                raise UserError(
                    self.env._(
                        "Run %s is not at the billing rules step: reopen it first.",
                        run.name,
                    )
                )
            if not run.date_from or not run.date_to or run.date_from > run.date_to:
                raise UserError(
                    self.env._(
                        "Run %s: set a valid billing period (its start on or before "
                        "its end).",
                        run.name,
                    )
                )
