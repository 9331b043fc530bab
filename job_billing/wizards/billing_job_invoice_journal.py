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

    # columns of the journal: stable names and codes, whatever the user's
    # language (docs/user-guide-job-billing.md, "Invoice Journal"); money
    # columns rounded to the cent
    JOURNAL_COLUMNS = [
        "invoice",
        "invoice_date",
        "customer",
        "job",
        "job_invoice_type",
        "job_invoice_policy",
        "job_workflow_state",
        "untaxed",
        "tax",
        "total",
        "amount_due",
    ]
    JOURNAL_MONEY_COLUMNS = ["untaxed", "tax", "total", "amount_due"]

    def _get_header(self):
        return list(self.JOURNAL_COLUMNS)

    def _get_row_values(self, move):
        """{column: value} of one invoice, signed (credit notes negative)."""
        sign = -1 if move.move_type == "out_refund" else 1
        return {
            "invoice": move.name
            if move.name and move.name != "/"
            else f"Draft #{move.id}",
            "invoice_date": fields.Date.to_string(move.invoice_date),
            "customer": move.partner_id.display_name,
            "job": move.job_id.name,
            "job_invoice_type": move.job_invoice_type or "",
            "job_invoice_policy": move.job_invoice_policy or "",
            "job_workflow_state": move.job_workflow_state or "",
            "untaxed": sign * move.amount_untaxed,
            "tax": sign * move.amount_tax,
            "total": sign * move.amount_total,
            "amount_due": sign * move.amount_residual,
        }

    def _get_rows(self, moves):
        """One row per invoice, signed (credit notes negative), and a total
        row ("total" in the first column)."""
        money = self.env["billing.job.export"]._money
        rows = []
        totals = dict.fromkeys(self.JOURNAL_MONEY_COLUMNS, 0.0)
        for move in moves:
            values = self._get_row_values(move)
            for column in self.JOURNAL_MONEY_COLUMNS:
                values[column] = money(values[column])
                totals[column] += values[column]
            rows.append([values[column] for column in self.JOURNAL_COLUMNS])
        total_row = {column: "" for column in self.JOURNAL_COLUMNS}
        total_row.update({column: money(total) for column, total in totals.items()})
        total_row[self.JOURNAL_COLUMNS[0]] = "total"
        return rows + [[total_row[column] for column in self.JOURNAL_COLUMNS]]

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
