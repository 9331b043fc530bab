from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import float_compare

# invoice line kinds that bill the job price (deposits are balanced separately)
PRICE_LINE_KINDS = ("invoiceable", "progress", "adjustment")
# context value deferring the job's checks while the server rebuilds an invoice
# (an object: no RPC client can send it)
DEFER_CHECKS = object()


class BillingJob(models.Model):
    _name = "billing.job"
    _description = "Job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Number", required=True, copy=False, readonly=True, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        check_company=True,
        domain="[('company_id', 'in', (False, company_id))]",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user
    )
    description = fields.Text()
    sale_order_ids = fields.Many2many(
        "sale.order",
        string="Sale Orders",
        copy=False,
        check_company=True,
        domain="[('company_id', '=', company_id), ('state', '=', 'sale')]",
    )
    invoiceable_ids = fields.One2many(
        "billing.job.invoiceable", "job_id", string="Invoiceables", copy=True
    )
    billing_type = fields.Selection(
        [("fixed_price", "Fixed Price"), ("time_material", "Time and Material")],
        required=True,
        default="time_material",
        tracking=True,
        help="Fixed Price: the suggested job price is the agreed fixed price. "
        "Time and Material: it is the sum of the job's invoiceables.",
    )
    fixed_price = fields.Monetary(tracking=True, help="Untaxed agreed job price.")
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("billed", "Billed")],
        default="open",
        required=True,
        copy=False,
        tracking=True,
    )
    invoice_ids = fields.One2many("account.move", "job_id", string="Invoices")
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    has_complete_invoice = fields.Boolean(compute="_compute_invoice_count")

    amount_invoiceables = fields.Monetary(
        string="Invoiceables Total",
        compute="_compute_suggested_price",
        store=True,
    )
    suggested_price = fields.Monetary(
        string="Suggested Job Price",
        compute="_compute_suggested_price",
        store=True,
        help="Untaxed target amount of the job's invoices, corrections aside.",
    )
    amount_invoiced = fields.Monetary(
        string="Invoiced So Far",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of the job price already invoiced (draft or posted), "
        "deposits and corrections aside.",
    )
    deposit_invoiced = fields.Monetary(
        string="Deposits", compute="_compute_amounts", store=True
    )
    deposit_balance = fields.Monetary(
        string="Deposits Not Yet Balanced",
        compute="_compute_amounts",
        store=True,
    )
    amount_corrected = fields.Monetary(
        string="Corrections",
        compute="_compute_amounts",
        store=True,
        help="Untaxed net amount of the correction invoices (credits negative).",
    )
    amount_to_invoice = fields.Monetary(
        string="Remaining to Invoice", compute="_compute_amounts", store=True
    )
    progress_percent = fields.Float(
        string="Invoiced %",
        compute="_compute_amounts",
        store=True,
        digits=(16, 2),
    )
    invoicing_stage = fields.Selection(
        [("new", "New"), ("active", "Active"), ("completed", "Completed")],
        compute="_compute_invoicing_stage",
        store=True,
        index=True,
        help="New: something to bill. Active: a draft invoice exists, or an "
        "invoice is neither sent to the customer nor exported yet. Completed: "
        "everything is invoiced and sent or exported.",
    )
    sync_error = fields.Text(
        string="Sync Errors", compute="_compute_sync_error", store=True
    )

    # ------------------------------------------------------------------ computes
    @api.depends("invoice_ids.state", "invoice_ids.job_invoice_type")
    def _compute_invoice_count(self):
        for job in self:
            job.invoice_count = len(job.invoice_ids)
            job.has_complete_invoice = bool(job._get_complete_invoices())

    @api.depends("billing_type", "fixed_price", "invoiceable_ids.amount")
    def _compute_suggested_price(self):
        for job in self:
            job.amount_invoiceables = sum(job.invoiceable_ids.mapped("amount"))
            job.suggested_price = (
                job.fixed_price
                if job.billing_type == "fixed_price"
                else job.amount_invoiceables
            )

    def _get_invoiced_line_domain(self):
        """Job invoice lines that count: draft or posted, not cancelled; lines
        without a kind (added by hand) count as corrections."""
        return [
            ("job_id", "in", self._origin.ids),
            ("display_type", "=", "product"),
            ("parent_state", "!=", "cancel"),
        ]

    def _get_invoiced_totals(self, moves=None):
        """Untaxed amounts of the jobs' draft and posted invoice lines (of
        ``moves`` only, if given), signed as billed to the customer (credit
        notes negative), by job:
        {(job_id, key): amount} where key is a line kind (its untaxed amount),
        ``"<kind>_discount"`` (the discounts of progress and adjustment lines),
        ``"price"`` (what the lines bill of the job price: the invoiceables
        their allocations bill, progress billing and adjustments, before any
        discount) and ``"corrected"`` (correction lines, lines added by hand,
        and what the job price lines charge more or less than they bill:
        discounts, prices edited on the invoice)."""
        totals = defaultdict(float)
        if not self._origin.ids:
            return totals
        domain = self._get_invoiced_line_domain()
        moves_domain = [("move_id", "in", moves.ids)] if moves is not None else []
        domain = expression.AND([domain, moves_domain])
        groups = self.env["account.move.line"]._read_group(
            domain,
            ["job_id", "job_line_kind", "move_type"],
            ["price_subtotal:sum"],
        )
        for job, kind, move_type, subtotal in groups:
            sign = -1 if move_type == "out_refund" else 1
            totals[job.id, kind] += sign * subtotal
        allocations = self.env["billing.job.allocation"]._read_group(
            [
                ("job_id", "in", self._origin.ids),
                ("move_id.state", "!=", "cancel"),
                ("is_correction", "=", False),
                *moves_domain,
            ],
            ["job_id"],
            ["amount:sum"],
        )
        for job, amount in allocations:
            totals[job.id, "items"] += amount
        # discounted summary lines bill their amount before the discount
        discounted = self.env["account.move.line"].search(
            expression.AND(
                [
                    domain,
                    [
                        ("job_line_kind", "in", ("progress", "adjustment")),
                        ("discount", "!=", 0.0),
                    ],
                ]
            )
        )
        for line in discounted:
            sign = -1 if line.move_type == "out_refund" else 1
            totals[line.job_id.id, f"{line.job_line_kind}_discount"] += sign * (
                line.price_subtotal - line._get_job_gross_amount()
            )
        self._add_price_totals(totals)
        return totals

    def _add_price_totals(self, totals):
        """Add "price" and "corrected" to the jobs' ``totals``."""
        for job_id in self._origin.ids:
            charged = sum(totals[job_id, kind] for kind in PRICE_LINE_KINDS)
            price = (
                totals[job_id, "items"]
                + totals[job_id, "progress"]
                - totals[job_id, "progress_discount"]
                + totals[job_id, "adjustment"]
                - totals[job_id, "adjustment_discount"]
            )
            totals[job_id, "price"] = price
            totals[job_id, "corrected"] = (
                totals[job_id, "correction"] + totals[job_id, False] + charged - price
            )

    @api.depends(
        "suggested_price",
        "invoice_ids.state",
        "invoice_ids.move_type",
        "invoice_ids.line_ids.price_subtotal",
        "invoice_ids.line_ids.discount",
        "invoice_ids.line_ids.job_line_kind",
        "invoice_ids.line_ids.job_allocation_ids.amount",
    )
    def _compute_amounts(self):
        totals = self._get_invoiced_totals()
        for job in self:
            key = job._origin.id
            invoiced = totals[key, "price"]
            job.amount_invoiced = invoiced
            job.deposit_invoiced = totals[key, "deposit"]
            job.deposit_balance = (
                job.deposit_invoiced + totals[key, "deposit_deduction"]
            )
            job.amount_corrected = totals[key, "corrected"]
            job.amount_to_invoice = job.suggested_price - invoiced
            job.progress_percent = (
                100.0 * invoiced / job.suggested_price if job.suggested_price else 0.0
            )

    # ------------------------------------------------------------------ rules
    def _check_job_figures(self):
        """The rules the job's figures keep whatever is done to its invoices
        or to the job card: nothing billed twice, nothing credited that was not
        billed, deposits never deducted beyond what was received, the job price
        never below what is billed, and a billed job billed in full. Also puts
        a job's status in step with its final invoice first."""
        jobs = self.exists()
        if not jobs or self.env.context.get("job_billing_defer_checks") is DEFER_CHECKS:
            return
        jobs._sync_billed_state()
        jobs._refresh_figures()
        for job in jobs:
            error = job._get_figures_error()
            if error:
                raise UserError(error)

    def _refresh_figures(self):
        """Recompute the jobs' figures from their invoice lines as they are
        now, whatever was missed."""
        self.env.flush_all()
        for fname in ("amount_invoiced", "deposit_balance", "amount_to_invoice"):
            self.env.add_to_compute(self._fields[fname], self)
        self.invoiceable_ids.invalidate_recordset(
            ["qty_invoiced", "amount_invoiced", "qty_to_invoice", "amount_to_invoice"]
        )
        self.env.flush_all()

    def _get_draft_credits(self):
        """What the job's draft credit notes take off its figures, signed as
        in ``_get_invoiced_totals`` (negative): ``{"price": .., "deposit":
        ..}``. A draft credit note is a draft: the rules against crediting
        more of the job price or of the deposits than was billed or received
        judge it when it is posted, so that Odoo's Credit Note (a full
        reversal, in draft) can be edited down to what is left first. (The
        invoiceables a credit note credits are set when it is made, editing
        cannot lower them: they are judged at once.)"""
        self.ensure_one()
        draft_credits = defaultdict(float)
        credit_notes = self.invoice_ids.filtered(
            lambda m: m.move_type == "out_refund" and m.state == "draft"
        )
        if not credit_notes:
            return draft_credits
        totals = self._get_invoiced_totals(moves=credit_notes)
        draft_credits["price"] = totals[self.id, "price"]
        draft_credits["deposit"] = totals[self.id, "deposit"]
        return draft_credits

    def _get_deposit_left_to_credit(self):
        """The deposits not yet deducted, the draft credit notes left out:
        what a credit note of the deposits may credit."""
        self.ensure_one()
        return self.deposit_balance - self._get_draft_credits()["deposit"]

    def _get_deposit_balance_to_check(self):
        """The deposits not yet deducted, the draft credit notes left out."""
        self.ensure_one()
        if self.currency_id.compare_amounts(self.deposit_balance, 0.0) >= 0:
            return self.deposit_balance
        return self._get_deposit_left_to_credit()

    def _get_figures_error(self):
        """Why the job's figures break a rule, or False (hook)."""
        self.ensure_one()
        return self._get_items_figures_error() or self._get_price_figures_error()

    def _get_items_figures_error(self):
        """Each invoiceable billed at most once, and never credited more."""
        self.ensure_one()
        for item in self.invoiceable_ids:
            if float_compare(item.qty_invoiced, item.quantity, precision_digits=6) > 0:
                return self.env._(
                    "Job %(job)s: %(item)s would be billed %(billed)s times of "
                    "%(qty)s: nothing is billed twice.",
                    job=self.name,
                    item=item.name,
                    billed=item.qty_invoiced,
                    qty=item.quantity,
                )
            if float_compare(item.qty_invoiced, 0.0, precision_digits=6) < 0:
                return self.env._(
                    "Job %(job)s: %(item)s would be credited more than it was billed.",
                    job=self.name,
                    item=item.name,
                )
        return False

    def _get_price_figures_error(self):
        """The job price: billed at most once, deposits deducted at most once,
        and billed in full once the job is billed."""
        self.ensure_one()
        currency = self.currency_id
        if currency.compare_amounts(self.amount_invoiced, 0.0) < 0 and (
            currency.compare_amounts(
                self.amount_invoiced - self._get_draft_credits()["price"], 0.0
            )
            < 0
        ):
            return self.env._(
                "Job %(job)s: this would credit more of the job price than was "
                "billed (%(amount).2f).",
                job=self.name,
                amount=self.amount_invoiced,
            )
        deposit_balance = self._get_deposit_balance_to_check()
        if currency.compare_amounts(deposit_balance, 0.0) < 0:
            return self._get_deposit_figures_error(deposit_balance)
        if (
            currency.compare_amounts(
                self.amount_invoiced + self.deposit_balance, self.suggested_price
            )
            > 0
        ):
            return self.env._(
                "Job %(job)s: %(billed).2f of its price is billed and %(deposit).2f "
                "of deposits is not yet deducted, more than the job price of "
                "%(price).2f. Bill less, or raise the job price; to give the "
                "customer a discount, issue a correction.",
                job=self.name,
                billed=self.amount_invoiced,
                deposit=self.deposit_balance,
                price=self.suggested_price,
            )
        if self.state == "billed" and (
            not currency.is_zero(self.amount_to_invoice)
            or not currency.is_zero(self.deposit_balance)
            or any(
                float_compare(item.qty_to_invoice, 0.0, precision_digits=6)
                for item in self.invoiceable_ids
            )
        ):
            return self.env._(
                "Job %(job)s is billed: its final invoice bills what remains and "
                "balances the deposits. This would leave %(remaining).2f to "
                "invoice and %(deposit).2f of deposits not balanced: issue a "
                "correction invoice instead, or credit (or reset to draft) the "
                "final invoice first.",
                job=self.name,
                remaining=self.amount_to_invoice,
                deposit=self.deposit_balance,
            )
        return False

    def _get_deposit_figures_error(self, deposit_balance):
        """The deposits would be deducted beyond what was received."""
        self.ensure_one()
        deducted = self.deposit_invoiced - self.deposit_balance
        return self.env._(
            "Job %(job)s: %(deducted).2f of its deposits is deducted on its "
            "invoices, more than the %(received).2f received (deposits less "
            "their credit notes). A deposit already deducted on another invoice "
            "cannot be credited, cancelled or deleted: credit or cancel the "
            "invoices deducting it first, or credit only what is not yet "
            "deducted.",
            job=self.name,
            deducted=deducted,
            received=deducted + deposit_balance,
        )

    def _get_effective_final_invoice(self):
        """The posted final invoice that no credit note reverses."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: (
                m.job_invoice_type == "complete"
                and m.move_type == "out_invoice"
                and m.state == "posted"
                and not m.reversal_move_ids.filtered(lambda r: r.state != "cancel")
            )
        )

    def _sync_billed_state(self):
        """A closed job is billed once its final invoice is posted, and
        closed again when that invoice is reset to draft, cancelled or
        credited."""
        to_bill = self.filtered(
            lambda job: job.state == "closed" and job._get_effective_final_invoice()
        )
        to_close = self.filtered(
            lambda job: job.state == "billed" and not job._get_effective_final_invoice()
        )
        if to_bill:
            to_bill.write({"state": "billed"})
        if to_close:
            to_close.write({"state": "closed"})

    def _check_state(self):
        """The status follows the job's invoices, whoever writes it."""
        for job in self:
            final = job._get_effective_final_invoice()
            if job.state == "billed" and not final:
                raise UserError(
                    self.env._(
                        "Job %(job)s cannot be billed without its posted final "
                        "invoice: posting the final invoice bills the job.",
                        job=job.name,
                    )
                )
            if job.state != "billed" and final:
                raise UserError(
                    self.env._(
                        "Job %(job)s is billed by its final invoice %(invoice)s: "
                        "reset it to draft, cancel or credit it to reopen billing.",
                        job=job.name,
                        invoice=final[0].name,
                    )
                )
            if job.state == "open" and job._get_complete_invoices():
                raise UserError(
                    self.env._(
                        "Job %(job)s has a complete (final) invoice: cancel it "
                        "before reopening the job.",
                        job=job.name,
                    )
                )

    @api.depends(
        "state",
        "amount_to_invoice",
        "deposit_balance",
        "invoice_ids.state",
        "invoice_ids.is_move_sent",
        "invoice_ids.job_workflow_state",
    )
    def _compute_invoicing_stage(self):
        for job in self:
            invoices = job.invoice_ids.filtered(lambda m: m.state != "cancel")
            rounding = job.currency_id or self.env.company.currency_id
            to_bill = job.state != "billed" and (
                not rounding.is_zero(job.amount_to_invoice)
                or not rounding.is_zero(job.deposit_balance)
            )
            if any(not move._is_job_invoice_delivered() for move in invoices):
                job.invoicing_stage = "active"
            elif to_bill:
                job.invoicing_stage = "new"
            elif invoices:
                job.invoicing_stage = "completed"
            else:
                job.invoicing_stage = False

    @api.depends("invoice_ids.job_export_error")
    def _compute_sync_error(self):
        for job in self:
            errors = [
                f"{move.name}: {move.job_export_error}"
                for move in job.invoice_ids
                if move.job_export_error
            ]
            job.sync_error = "\n".join(errors) or False

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("billing.job")
                    or "/"
                )
        jobs = super().create(vals_list)
        jobs._check_state()
        jobs.filtered("sale_order_ids")._sync_order_items()
        return jobs

    def _get_billed_writable_fields(self):
        """Fields a billed job still accepts (hook): its status and chatter."""
        return {
            "state",
            "message_main_attachment_id",
            "activity_ids",
            "message_follower_ids",
        }

    def _get_price_fields(self):
        """Fields whose change may change the job price (hook)."""
        return {"billing_type", "fixed_price", "invoiceable_ids", "sale_order_ids"}

    def write(self, vals):
        if set(vals) - self._get_billed_writable_fields():
            self._check_editable()
        res = super().write(vals)
        if "sale_order_ids" in vals:
            self._sync_order_items()
        if "state" in vals:
            self._check_state()
        if set(vals) & self._get_price_fields():
            self._check_job_figures()
        return res

    def _check_editable(self):
        billed = self.filtered(lambda job: job.state == "billed")
        if billed:
            raise UserError(
                self.env._(
                    "Job %(jobs)s is billed: it can no longer be modified. Issue a "
                    "correction invoice instead.",
                    jobs=", ".join(billed.mapped("name")),
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        self._check_editable()
        invoiced = self.with_context(active_test=False).filtered("invoice_ids")
        if invoiced:
            raise UserError(
                self.env._(
                    "Job %(jobs)s has invoices: a job with any invoice cannot be "
                    "deleted.",
                    jobs=", ".join(invoiced.mapped("name")),
                )
            )

    # ------------------------------------------------------------------ order items
    def _prepare_order_item_values(self, sale_line):
        """An order item bills what its sale line says: its quantity, unit
        price and discount here, its taxes read from the line
        (``billing.job.invoiceable._get_taxes``)."""
        return {
            "job_id": self.id,
            "sale_line_id": sale_line.id,
            "source": "order_item",
            "name": sale_line.name,
            "product_id": sale_line.product_id.id,
            "quantity": sale_line.product_uom_qty,
            "price_unit": sale_line.price_unit,
            "discount": sale_line.discount,
        }

    @api.model
    def _get_order_item_synced_fields(self):
        """The order item fields kept in step with their sale line (hook)."""
        return ("quantity", "price_unit", "discount")

    def _get_order_item_lines(self):
        return self.sale_order_ids.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
        )

    def _check_order_currency(self):
        """A job is in its company's currency: its sale orders too; and it
        bills them itself: an order already invoiced from the sale order
        cannot be linked."""
        for job in self:
            invoiced = job.sale_order_ids.order_line.invoice_lines.filtered(
                lambda line, job=job: (
                    line.parent_state != "cancel" and line.move_id.job_id != job
                )
            )
            if invoiced:
                raise UserError(
                    self.env._(
                        "Sale order %(orders)s is already invoiced (%(invoices)s): "
                        "job %(job)s bills its sale orders itself. Link an order "
                        "not invoiced yet, or cancel those invoices first.",
                        orders=", ".join(
                            invoiced.sale_line_ids.order_id.mapped("name")
                        ),
                        invoices=", ".join(
                            m._get_job_invoice_label() for m in invoiced.move_id
                        ),
                        job=job.name,
                    )
                )
            foreign = job.sale_order_ids.filtered(
                lambda order, job=job: order.currency_id != job.currency_id
            )
            if foreign:
                raise UserError(
                    self.env._(
                        "Sale order %(orders)s is in %(currency)s: job %(job)s bills "
                        "in %(company_currency)s only.",
                        orders=", ".join(foreign.mapped("name")),
                        currency=", ".join(foreign.currency_id.mapped("name")),
                        job=job.name,
                        company_currency=job.currency_id.name,
                    )
                )

    def _sync_order_items(self):
        """Create the order items of the linked sale order lines, update them,
        and drop those of unlinked orders that nothing invoiced."""
        self._check_order_currency()
        Invoiceable = self.env["billing.job.invoiceable"]
        to_create, to_update, stale = [], defaultdict(Invoiceable.browse), Invoiceable
        synced_fields = self._get_order_item_synced_fields()
        for job in self:
            sale_lines = job._get_order_item_lines()
            items = job.invoiceable_ids.filtered(lambda i: i.source == "order_item")
            by_line = {item.sale_line_id: item for item in items}
            for sale_line in sale_lines:
                values = job._prepare_order_item_values(sale_line)
                item = by_line.get(sale_line)
                synced = tuple(values[fname] for fname in synced_fields)
                if not item:
                    to_create.append(values)
                elif tuple(item[fname] for fname in synced_fields) != synced:
                    to_update[synced] |= item
            stale |= items.filtered(
                lambda i, lines=sale_lines: (
                    i.sale_line_id not in lines and not i.allocation_ids
                )
            )
        for synced, changed in to_update.items():
            changed.write(dict(zip(synced_fields, synced, strict=True)))
        stale.unlink()
        Invoiceable.create(to_create)

    def action_update_order_items(self):
        self._check_editable()
        self._sync_order_items()

    # ------------------------------------------------------------------ status
    def action_close(self):
        for job in self:
            if job.state != "open":
                raise UserError(
                    self.env._(
                        "Only an open job can be closed (%(job)s).", job=job.name
                    )
                )
        self.write({"state": "closed"})

    def action_reopen(self):
        for job in self:
            if job.state != "closed":
                raise UserError(
                    self.env._(
                        "Only a closed job can be reopened (%(job)s is %(state)s).",
                        job=job.name,
                        state=dict(self._fields["state"].selection)[job.state],
                    )
                )
            if job._get_complete_invoices():
                raise UserError(
                    self.env._(
                        "Job %(job)s has a complete (final) invoice: cancel it before "
                        "reopening the job.",
                        job=job.name,
                    )
                )
        self.write({"state": "open"})

    def _get_complete_invoices(self):
        """The final invoice: not cancelled, nor reversed by a credit note."""
        return self.invoice_ids.filtered(
            lambda m: (
                m.job_invoice_type == "complete"
                and m.move_type == "out_invoice"
                and m.state != "cancel"
                and not m.reversal_move_ids.filtered(lambda r: r.state != "cancel")
            )
        )

    def _get_pending_partial_invoices(self):
        """Draft partial invoices (and credit notes of partial invoices)."""
        return self.invoice_ids.filtered(
            lambda m: m.job_invoice_type == "partial" and m.state == "draft"
        )

    def _check_invoice_type_allowed(self, invoice_type, move=None):
        """Refuse an invoice of ``invoice_type`` that the job's status does not
        allow (product document); ``move`` is the invoice being checked, if it
        exists already."""
        self.ensure_one()
        if invoice_type == "correction":
            return
        if self.state == "billed":
            raise UserError(
                self.env._(
                    "Job %(job)s is billed: it takes only correction invoices.",
                    job=self.name,
                )
            )
        if invoice_type != "complete":
            return
        if self.state != "closed":
            raise UserError(
                self.env._(
                    "A complete (final) invoice can only be issued for a closed "
                    "job: close job %(job)s first.",
                    job=self.name,
                )
            )
        pending = self._get_pending_partial_invoices()
        if pending:
            raise UserError(
                self.env._(
                    "Job %(job)s has draft partial invoices (%(invoices)s): post or "
                    "delete them before its complete (final) invoice, which bills "
                    "what they leave.",
                    job=self.name,
                    invoices=", ".join(m._get_job_invoice_label() for m in pending),
                )
            )
        others = self._get_complete_invoices() - (move or self.env["account.move"])
        if others:
            raise UserError(
                self.env._(
                    "Job %(job)s already has a complete invoice (%(invoice)s): "
                    "there is only one per job.",
                    job=self.name,
                    invoice=others[0]._get_job_invoice_label(),
                )
            )

    # ------------------------------------------------------------------ actions
    def _get_default_policy(self):
        self.ensure_one()
        return {
            "open": "progress_itemized",
            "closed": "final",
            "billed": "correction",
        }[self.state]

    def action_generate_invoice(self, policy=None):
        """Open the invoice wizard on this job (the job card's Generate Invoice)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Generate Invoice"),
            "res_model": "billing.job.invoice",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_job_id": self.id,
                "default_policy": policy or self._get_default_policy(),
            },
        }

    def action_regenerate_drafts(self):
        """Regenerate the job's draft invoices from the job card as it is now."""
        drafts = self.invoice_ids.filtered(
            lambda m: m.state == "draft" and m.job_invoice_type != "correction"
        )
        if not drafts:
            raise UserError(self.env._("There is no draft invoice to regenerate."))
        for move in drafts:
            move._regenerate_job_invoice()
        return self._notify(
            self.env._(
                "%(count)s draft invoice(s) regenerated from the job card.",
                count=len(drafts),
            )
        )

    @api.model
    def _notify(self, message, next_action=None, title=False):
        """A success notification, then ``next_action`` (or a reload)."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": title,
                "message": message,
                "next": next_action
                or {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "job_billing.action_job_invoices"
        )
        action["domain"] = [("job_id", "=", self.id)]
        action["context"] = {
            "default_job_id": self.id,
            "default_move_type": "out_invoice",
        }
        return action

    def action_print_invoices(self):
        invoices = self.invoice_ids.filtered(lambda m: m.state != "cancel")
        if not invoices:
            raise UserError(self.env._("This job has no invoice to print."))
        return invoices.action_job_print_invoices()

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            # copied order items would not follow their sale order
            vals["invoiceable_ids"] = [
                command
                for command in vals.get("invoiceable_ids", [])
                if command[2].get("source") != "order_item"
            ]
        return vals_list

    def _message_job_invoice_created(self, move):
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s (%(policy)s) created: %(amount)s untaxed.",
                invoice=move._get_job_invoice_label(),
                policy=move._get_job_policy_label(),
                amount=format(move.amount_untaxed, ".2f"),
            )
        )
