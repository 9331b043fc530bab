# One model in several files, by concern (see billing_job.py / account_move.py).
# pylint: disable=consider-merging-classes-inherited
from collections import defaultdict

from odoo import api, fields, models
from odoo.osv import expression

from .job_invoice_policy import PRICE_LINE_KINDS


class BillingJob(models.Model):
    """The job's amounts: its price, and what its invoices bill of it, read
    from their lines (stored, recomputed from what they depend on; the rules
    they keep are checked when they are, ``billing_job_state.py``)."""

    _inherit = "billing.job"

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
    # draft and posted: what is left to invoice and the rules count drafts
    amount_invoiced = fields.Monetary(
        string="Invoiced incl. Drafts",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of the job price already invoiced (draft or posted), "
        "deposits and corrections aside: Invoiced (posted) plus In Draft.",
    )
    amount_invoiced_posted = fields.Monetary(
        string="Invoiced (posted)",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of the job price billed by posted invoices (less "
        "posted credit notes), deposits and corrections aside.",
    )
    amount_invoiced_draft = fields.Monetary(
        string="In Draft",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of the job price on draft invoices (less draft "
        "credit notes): billed once they are posted.",
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
        string="Invoiced % incl. Drafts",
        compute="_compute_amounts",
        store=True,
        digits=(16, 2),
        help="Share of the job price invoiced, draft invoices included (0-100).",
    )
    progress_percent_posted = fields.Float(
        string="Invoiced % (posted)",
        compute="_compute_amounts",
        store=True,
        digits=(16, 2),
        help="Share of the job price billed by posted invoices (0-100).",
    )

    # ------------------------------------------------------------------ computes
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
        "invoice_ids.line_ids.display_type",
        "invoice_ids.line_ids.job_line_kind",
        "invoice_ids.line_ids.price_subtotal",
        # the amount before the discount (_get_job_gross_amount)
        "invoice_ids.line_ids.discount",
        "invoice_ids.line_ids.price_unit",
        "invoice_ids.line_ids.quantity",
        "invoice_ids.line_ids.tax_ids",
        # the allocations of the job's items are those of its invoices' lines
        "invoice_ids.line_ids.job_allocation_ids.amount",
        "invoice_ids.line_ids.job_allocation_ids.is_correction",
    )
    def _compute_amounts(self):
        totals = self._get_invoiced_totals()
        posted_totals = self._get_invoiced_totals(
            moves=self._origin.invoice_ids.filtered(lambda m: m.state == "posted")
        )
        for job in self:
            key = job._origin.id
            invoiced = totals[key, "price"]
            posted = posted_totals[key, "price"]
            job.amount_invoiced = invoiced
            job.amount_invoiced_posted = posted
            job.amount_invoiced_draft = invoiced - posted
            job.deposit_invoiced = totals[key, "deposit"]
            job.deposit_balance = (
                job.deposit_invoiced + totals[key, "deposit_deduction"]
            )
            job.amount_corrected = totals[key, "corrected"]
            job.amount_to_invoice = job.suggested_price - invoiced
            price = job.suggested_price
            job.progress_percent = 100.0 * invoiced / price if price else 0.0
            job.progress_percent_posted = 100.0 * posted / price if price else 0.0

    # ------------------------------------------------------------------ credit notes
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
