from odoo import Command, api, fields, models

from ..models.job_invoice_policy import JOB_INVOICE_TYPES, JobInvoiceChoices


class BillingJobInvoice(models.TransientModel):
    """The form of one job invoice: the policy and its values, a preview.
    The invoice itself is built and created by ``billing.job.invoicer``."""

    _name = "billing.job.invoice"
    _description = "Create a Job Invoice"
    _check_company_auto = True

    job_id = fields.Many2one(
        "billing.job", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="job_id.company_id")
    currency_id = fields.Many2one(related="job_id.currency_id")
    job_state = fields.Selection(related="job_id.state")
    policy = fields.Selection("_get_policy_selection", required=True, default="deposit")
    invoice_type = fields.Selection(
        list(JOB_INVOICE_TYPES), compute="_compute_invoice_type"
    )
    policy_uses_percent = fields.Boolean(compute="_compute_invoice_type")
    policy_uses_amount = fields.Boolean(compute="_compute_invoice_type")
    policy_itemized = fields.Boolean(compute="_compute_invoice_type")
    percent = fields.Float(
        digits=(16, 2),
        help="Deposit: percent of the suggested job price (when no amount is "
        "given). Progress, Summary: cumulative percent of the job complete.",
    )
    amount = fields.Monetary(
        help="Deposit: untaxed amount of the deposit. Correction: an untaxed "
        "amount to correct, on one line labelled with the reason; negative "
        "for a credit.",
    )
    reason = fields.Char(help="Correction: why (error, credit, discount...).")
    partner_id = fields.Many2one(
        "res.partner",
        string="Invoice To",
        compute="_compute_partner_id",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        check_company=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position", compute="_compute_fiscal_position_id"
    )
    invoice_date = fields.Date(
        help="Leave empty to date the invoice when it is posted."
    )
    line_ids = fields.One2many(
        "billing.job.invoice.line",
        "wizard_id",
        string="Lines",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    suggested_price = fields.Monetary(related="job_id.suggested_price")
    job_amount_invoiced = fields.Monetary(related="job_id.amount_invoiced")
    job_amount_invoiced_posted = fields.Monetary(
        related="job_id.amount_invoiced_posted"
    )
    job_amount_invoiced_draft = fields.Monetary(related="job_id.amount_invoiced_draft")
    job_deposit_balance = fields.Monetary(related="job_id.deposit_balance")
    job_amount_to_invoice = fields.Monetary(related="job_id.amount_to_invoice")
    amount_lines = fields.Monetary(
        string="Lines Total",
        compute="_compute_amount_preview",
        help="Untaxed total of the invoice's lines before the deposit "
        "deduction: those listed above, or the policy's summary line.",
    )
    amount_other_preview = fields.Monetary(
        string="Other Lines",
        compute="_compute_amount_preview",
        help="Untaxed lines the policy adds to those listed: a correction "
        "amount, price revisions, the progress billing already invoiced, the "
        "fixed price adjustment.",
    )
    deposit_deduction_preview = fields.Monetary(
        string="Less Deposits",
        compute="_compute_amount_preview",
        help="Deposits received that this invoice deducts (untaxed).",
    )
    amount_preview = fields.Monetary(
        string="Untaxed Amount of the Invoice", compute="_compute_amount_preview"
    )
    preview_error = fields.Char(compute="_compute_amount_preview")

    @api.model
    def _get_policy_selection(self):
        """The policies of this database: those of the job invoices' field."""
        field = self.env["account.move"]._fields["job_invoice_policy"]
        return field._description_selection(self.env)

    def _get_invoicer(self):
        return self.env["billing.job.invoicer"]

    def _get_policy(self):
        """The chosen policy's properties
        (``billing.job.invoicer._get_job_invoice_policies()``)."""
        self.ensure_one()
        return self._get_invoicer()._get_job_invoice_policy(self.policy)

    @api.depends("policy")
    def _compute_invoice_type(self):
        policies = self._get_invoicer()._get_job_invoice_policies()
        for wizard in self:
            policy = policies.get(wizard.policy)
            wizard.invoice_type = policy and policy.invoice_type
            wizard.policy_uses_percent = policy and "percent" in policy.fields
            wizard.policy_uses_amount = policy and "amount" in policy.fields
            wizard.policy_itemized = policy and policy.itemized

    @api.depends("job_id")
    def _compute_partner_id(self):
        for wizard in self:
            wizard.partner_id = wizard.job_id.partner_id

    @api.depends("partner_id", "company_id")
    def _compute_fiscal_position_id(self):
        for wizard in self:
            wizard.fiscal_position_id = wizard._get_invoicer()._get_fiscal_position(
                wizard.job_id, wizard.partner_id
            )

    @api.depends("job_id", "policy")
    def _compute_line_ids(self):
        for wizard in self:
            values = wizard._get_invoicer()._get_default_line_values(
                wizard.job_id, wizard.policy
            )
            wizard.line_ids = [Command.clear()] + [
                Command.create(line_values) for line_values in values
            ]

    @api.depends(
        "policy",
        "percent",
        "amount",
        "reason",
        "partner_id",
        "line_ids.quantity",
        "line_ids.price_unit",
    )
    def _compute_amount_preview(self):
        for wizard in self:
            listed = (
                sum(wizard.line_ids.mapped("amount")) if wizard.policy_itemized else 0.0
            )
            wizard.preview_error = False
            wizard.amount_preview = 0.0
            wizard.deposit_deduction_preview = 0.0
            wizard.amount_other_preview = 0.0
            wizard.amount_lines = listed
            if not wizard.job_id or not wizard.policy:
                continue
            preview = wizard._get_invoicer()._get_preview_totals(
                wizard.job_id, wizard._get_choices()
            )
            wizard.preview_error = preview["error"]
            if preview["error"]:
                continue
            wizard.amount_preview = preview["amount"]
            wizard.deposit_deduction_preview = preview["deposits"]
            if not wizard.policy_itemized:
                # a summary policy lists no lines: its own line is the total
                wizard.amount_lines = preview["billed"]
            else:
                wizard.amount_other_preview = wizard.currency_id.round(
                    preview["billed"] - listed
                )

    def _get_choices(self):
        """What the form asks for, as plain values for the invoicer."""
        self.ensure_one()
        return JobInvoiceChoices(
            policy=self.policy,
            partner=self.partner_id,
            percent=self.percent,
            amount=self.amount,
            reason=self.reason or "",
            invoice_date=self.invoice_date,
            lines=tuple(
                (line.invoiceable_id, line.quantity, line.price_unit)
                for line in self.line_ids
            ),
        )

    # ------------------------------------------------------------------ actions
    def _create_invoice(self):
        self.ensure_one()
        return self._get_invoicer()._create_invoice(self.job_id, self._get_choices())

    def action_create_invoice(self):
        move = self._create_invoice()
        return self.job_id._notify(
            self.env._(
                "Invoice %(invoice)s has been created successfully.",
                invoice=move._get_job_invoice_label(),
            ),
            next_action={
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": move.id,
                "views": [(False, "form")],
                "target": "current",
            },
            title=self.env._("Invoice created"),
        )

    @api.model
    def create_job_invoice(self, vals, post=False):
        """RPC and import entry point: create the wizard from ``vals`` (job_id,
        policy, percent, amount, reason, ...), create the invoice and return
        its id; ``post`` also posts it."""
        line_vals = vals.pop("lines", None)
        wizard = self.create(vals)
        if line_vals is not None:
            by_item = {line.invoiceable_id.id: line for line in wizard.line_ids}
            for item_id, quantity in line_vals.items():
                by_item[int(item_id)].quantity = quantity
        move = wizard._create_invoice()
        if post:
            move.action_post()
        return move.id
