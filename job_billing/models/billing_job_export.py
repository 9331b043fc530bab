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

    def _get_export_header(self):
        return [
            self.env._("Batch"),
            self.env._("Invoice"),
            self.env._("Type"),
            self.env._("Invoice Date"),
            self.env._("Due Date"),
            self.env._("Customer"),
            self.env._("Customer Reference"),
            self.env._("VAT"),
            self.env._("Job"),
            self.env._("Job Invoice Type"),
            self.env._("Policy"),
            self.env._("Account"),
            self.env._("Label"),
            self.env._("Quantity"),
            self.env._("Untaxed"),
            self.env._("Tax"),
            self.env._("Total"),
            self.env._("Currency"),
        ]

    def _get_export_rows(self, moves):
        """One row per invoice line, signed: credit notes are negative (hook)."""
        type_labels = dict(moves._fields["job_invoice_type"].selection)
        rows = []
        for move in moves.sorted(lambda m: (m.invoice_date, m.name)):
            sign = -1 if move.move_type == "out_refund" else 1
            partner = move.commercial_partner_id
            for line in move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            ):
                rows.append(
                    [
                        self.name,
                        move.name,
                        self.env._("Credit Note")
                        if sign < 0
                        else self.env._("Invoice"),
                        fields.Date.to_string(move.invoice_date),
                        fields.Date.to_string(move.invoice_date_due),
                        partner.name,
                        partner.ref or "",
                        partner.vat or "",
                        move.job_id.name,
                        type_labels.get(move.job_invoice_type, ""),
                        move._get_job_policy_label(),
                        line.account_id.code,
                        line.name or "",
                        line.quantity,
                        sign * line.price_subtotal,
                        sign * (line.price_total - line.price_subtotal),
                        sign * line.price_total,
                        move.currency_id.name,
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
    def _build_xlsx(self, header, rows, sheet_name="Invoices"):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(sheet_name)
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        sheet.write_row(0, 0, header, bold)
        for index, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, float):
                    sheet.write_number(index, col, value, money)
                else:
                    sheet.write(index, col, value)
        sheet.freeze_panes(1, 0)
        workbook.close()
        return output.getvalue()

    @api.model
    def _build_csv(self, header, rows):
        output = io.StringIO()
        writer = csv.writer(output, delimiter=";")
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                [f"{value:.2f}" if isinstance(value, float) else value for value in row]
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
