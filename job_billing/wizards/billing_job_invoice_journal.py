import base64

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression


class BillingJobInvoiceJournal(models.TransientModel):
    """The invoice journal: job invoices of a date range as an XLSX file."""

    _name = "billing.job.invoice.journal"
    _description = "Job Invoice Journal"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    include_draft = fields.Boolean(string="Include Draft Invoices")

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The start date is after the end date."))

    def _get_moves_domain(self):
        states = ["posted", "draft"] if self.include_draft else ["posted"]
        return expression.AND(
            [
                [
                    ("company_id", "=", self.company_id.id),
                    ("job_id", "!=", False),
                    ("state", "in", states),
                ],
                [
                    ("invoice_date", ">=", self.date_from),
                    ("invoice_date", "<=", self.date_to),
                ],
            ]
        )

    def _get_header(self):
        return [
            self.env._("Invoice"),
            self.env._("Date"),
            self.env._("Customer"),
            self.env._("Job"),
            self.env._("Type"),
            self.env._("Policy"),
            self.env._("Status"),
            self.env._("Untaxed"),
            self.env._("Tax"),
            self.env._("Total"),
            self.env._("Amount Due"),
        ]

    def _get_rows(self, moves):
        """One row per invoice, signed (credit notes negative), and a total."""
        types = dict(moves._fields["job_invoice_type"].selection)
        states = dict(moves._fields["job_workflow_state"].selection)
        rows = []
        for move in moves:
            sign = -1 if move.move_type == "out_refund" else 1
            rows.append(
                [
                    move._get_job_invoice_label(),
                    fields.Date.to_string(move.invoice_date),
                    move.partner_id.display_name,
                    move.job_id.name,
                    types.get(move.job_invoice_type, ""),
                    move._get_job_policy_label(),
                    states.get(move.job_workflow_state, ""),
                    sign * move.amount_untaxed,
                    sign * move.amount_tax,
                    sign * move.amount_total,
                    sign * move.amount_residual,
                ]
            )
        totals = [self.env._("Total")] + [""] * 6
        totals += [float(sum(row[col] for row in rows)) for col in range(7, 11)]
        return rows + [totals]

    def _generate_journal(self):
        self.ensure_one()
        moves = self.env["account.move"].search(
            self._get_moves_domain(), order="invoice_date, name, id"
        )
        if not moves:
            raise UserError(self.env._("No job invoice is dated in this range."))
        content = self.env["billing.job.export"]._build_xlsx(
            self._get_header(), self._get_rows(moves), sheet_name="Invoice Journal"
        )
        return self.env["ir.attachment"].create(
            {
                "name": f"invoice_journal_{self.date_from}_{self.date_to}.xlsx",
                "datas": base64.b64encode(content),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
            }
        )

    def action_generate(self):
        attachment = self._generate_journal()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
