import base64
import csv
import io

import xlsxwriter

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class BillingJobExport(models.Model):
    """One export of approved job invoices to the external accounting system:
    the invoice journal as XLSX and CSV, the invoices exported and those that
    failed with their reason."""

    _name = "billing.job.export"
    _description = "Job Invoice Export Batch"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", string="Exported By", default=lambda self: self.env.user
    )
    export_date = fields.Datetime(default=fields.Datetime.now, readonly=True)
    move_ids = fields.One2many(
        "account.move", "job_export_id", string="Exported Invoices", readonly=True
    )
    failed_move_ids = fields.Many2many(
        "account.move",
        "billing_job_export_failed_move_rel",
        "export_id",
        "move_id",
        string="Failed Invoices",
        readonly=True,
    )
    exported_count = fields.Integer(compute="_compute_counts")
    failed_count = fields.Integer(compute="_compute_counts")
    state = fields.Selection(
        [("done", "Exported"), ("partial", "Partly Failed"), ("failed", "Failed")],
        readonly=True,
        default="done",
    )
    xlsx_file = fields.Binary(string="Invoice Journal (XLSX)", attachment=True)
    xlsx_filename = fields.Char()
    csv_file = fields.Binary(string="Invoice Journal (CSV)", attachment=True)
    csv_filename = fields.Char()

    @api.depends("move_ids", "failed_move_ids")
    def _compute_counts(self):
        for batch in self:
            batch.exported_count = len(batch.move_ids)
            batch.failed_count = len(batch.failed_move_ids)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("billing.job.export") or "/"
                )
        return super().create(vals_list)

    # ------------------------------------------------------------------ export
    @api.model
    def _export_moves(self, moves):
        """Export approved job invoices; returns the batch. Invoices that fail
        the checks keep their reason in ``job_export_error`` and stay approved."""
        not_approved = moves.filtered(lambda m: m.job_workflow_state != "approved")
        if not_approved:
            raise UserError(
                self.env._(
                    "Only approved job invoices can be exported: %(invoices)s.",
                    invoices=", ".join(
                        m._get_job_invoice_label() for m in not_approved
                    ),
                )
            )
        if len(moves.company_id) > 1:
            raise UserError(self.env._("Export the invoices of one company at a time."))
        errors = {move: move._check_exportable() for move in moves}
        failed = moves.filtered(lambda m: errors[m])
        exported = moves - failed
        batch = self.create(
            {
                "company_id": moves.company_id.id or self.env.company.id,
                "failed_move_ids": [Command.set(failed.ids)],
                "state": "failed"
                if not exported
                else ("partial" if failed else "done"),
            }
        )
        for error, failed_moves in failed.grouped(lambda m: errors[m]).items():
            failed_moves.job_export_error = error
        if exported:
            exported.write(
                {
                    "job_export_id": batch.id,
                    "job_workflow_state": "exported",
                    "job_export_error": False,
                }
            )
            batch._write_files(exported)
        if exported:
            body = self.env._(
                "Exported to the accounting system in batch %(batch)s.",
                batch=batch.name,
            )
            exported._message_log_batch(bodies=dict.fromkeys(exported.ids, body))
        return batch

    # columns of the export file: stable names, whatever the user's language
    # (README, "Export file"); money columns are rounded to the cent
    EXPORT_COLUMNS = [
        "batch",
        "invoice",
        "move_type",
        "invoice_date",
        "due_date",
        "customer",
        "customer_ref",
        "customer_vat",
        "job",
        "job_invoice_type",
        "job_invoice_policy",
        "account",
        "label",
        "quantity",
        "untaxed",
        "tax",
        "total",
        "currency",
        "tax_codes",
        "tax_rates",
        "untaxed_company",
        "tax_company",
        "total_company",
        "company_currency",
        "invoice_total",
        "invoice_total_company",
        "receivable_account",
    ]
    EXPORT_MONEY_COLUMNS = {
        "untaxed",
        "tax",
        "total",
        "untaxed_company",
        "tax_company",
        "total_company",
        "invoice_total",
        "invoice_total_company",
    }

    def _get_export_header(self):
        return list(self.EXPORT_COLUMNS)

    @api.model
    def _money(self, value):
        """Rounded to the cent, never -0.00."""
        return round(value, 2) + 0.0

    def _get_export_rows(self, moves):
        """One row per invoice line, signed: credit notes are negative (hook)."""
        rows = []
        for move in moves.sorted(lambda m: (m.invoice_date, m.name)):
            sign = -1 if move.move_type == "out_refund" else 1
            partner = move.commercial_partner_id
            company = move.company_id
            receivable = move.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            ).account_id[:1]
            for line in move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            ):
                tax = sign * (line.price_total - line.price_subtotal)
                untaxed_company = -line.balance
                tax_company = move.currency_id._convert(
                    tax, company.currency_id, company, move.date
                )
                taxes = line.tax_ids
                values = {
                    "batch": self.name,
                    "invoice": move.name,
                    "move_type": move.move_type,
                    "invoice_date": fields.Date.to_string(move.invoice_date),
                    "due_date": fields.Date.to_string(move.invoice_date_due),
                    "customer": partner.name,
                    "customer_ref": partner.ref or "",
                    "customer_vat": partner.vat or "",
                    "job": move.job_id.name,
                    "job_invoice_type": move.job_invoice_type or "",
                    "job_invoice_policy": move.job_invoice_policy or "",
                    "account": line.account_id.code,
                    "label": line.name or "",
                    "quantity": line.quantity,
                    "untaxed": sign * line.price_subtotal,
                    "tax": tax,
                    "total": sign * line.price_total,
                    "currency": move.currency_id.name,
                    "tax_codes": "|".join(taxes.mapped("name")),
                    "tax_rates": "|".join(
                        format(rate, "g") for rate in taxes.mapped("amount")
                    ),
                    "untaxed_company": untaxed_company,
                    "tax_company": tax_company,
                    "total_company": untaxed_company + tax_company,
                    "company_currency": company.currency_id.name,
                    "invoice_total": move.amount_total_in_currency_signed,
                    "invoice_total_company": move.amount_total_signed,
                    "receivable_account": receivable.code or "",
                }
                rows.append(
                    [
                        self._money(values[column])
                        if column in self.EXPORT_MONEY_COLUMNS
                        else values[column]
                        for column in self.EXPORT_COLUMNS
                    ]
                )
        return rows

    def _write_files(self, moves):
        self.ensure_one()
        header = self._get_export_header()
        rows = self._get_export_rows(moves)
        base_name = self.name.replace("/", "_")
        self.write(
            {
                "xlsx_file": base64.b64encode(self._build_xlsx(header, rows)),
                "xlsx_filename": f"{base_name}.xlsx",
                "csv_file": base64.b64encode(self._build_csv(header, rows)),
                "csv_filename": f"{base_name}.csv",
            }
        )

    @api.model
    def _get_quantity_digits(self):
        return self.env["decimal.precision"].precision_get("Product Unit of Measure")

    @api.model
    def _build_xlsx(self, header, rows, sheet_name="Invoices"):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_row(0, 0, header, workbook.add_format({"bold": True}))
        money = workbook.add_format({"num_format": "#,##0.00"})
        quantity = workbook.add_format(
            {"num_format": "0." + "0" * self._get_quantity_digits()}
        )
        formats = [quantity if name == "quantity" else money for name in header]
        for index, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, float):
                    sheet.write_number(index, col, value, formats[col])
                else:
                    sheet.write(index, col, value)
        sheet.freeze_panes(1, 0)
        workbook.close()
        return output.getvalue()

    @api.model
    def _build_csv(self, header, rows):
        """Numbers with a dot, money with 2 decimals, quantities with the
        unit of measure precision, whatever the user's language."""
        output = io.StringIO()
        writer = csv.writer(output, delimiter=";")
        writer.writerow(header)
        digits = self._get_quantity_digits()
        quantity_col = header.index("quantity") if "quantity" in header else -1
        for row in rows:
            writer.writerow(
                [
                    f"{value:.{digits}f}"
                    if col == quantity_col
                    else (f"{value:.2f}" if isinstance(value, float) else value)
                    for col, value in enumerate(row)
                ]
            )
        return output.getvalue().encode("utf-8")

    def action_retry(self):
        """Export again the invoices of this batch that failed and are still
        approved; returns the new batch."""
        self.ensure_one()
        to_retry = self.failed_move_ids.filtered(
            lambda m: m.job_workflow_state == "approved"
        )
        if not to_retry:
            raise UserError(self.env._("Nothing left to retry in %s.", self.name))
        return self._export_moves(to_retry)._get_records_action()

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "job_billing.action_job_invoices"
        )
        action["domain"] = [("id", "in", (self.move_ids | self.failed_move_ids).ids)]
        return action
