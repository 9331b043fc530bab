import base64
import csv
import io

import xlsxwriter

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr


class BillingJobExport(models.Model):
    """One export of approved job invoices to the external accounting system:
    the invoice journal as XLSX and CSV, the invoices exported and those that
    failed with their reason."""

    _name = "billing.job.export"
    _description = "Job Invoice Export Batch"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

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
        check_company=True,
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
    # (docs/user-guide-job-billing.md, "Export file"); money columns are
    # rounded as their currency
    # (the invoice's, or the company's for the "_company" columns)
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
    def _money(self, value, currency=None):
        """Rounded as ``currency`` rounds (half-up, to its own decimals; the
        company's currency if none is given), never -0.0."""
        currency = currency or self.env.company.currency_id
        return currency.round(value) + 0.0

    @api.model
    def _get_money_currency_column(self, column):
        """The column naming the currency of money ``column``."""
        return "company_currency" if column.endswith("_company") else "currency"

    @api.model
    def _spread_rest(self, total, parts, currency):
        """``parts`` rounded as ``currency`` and made to add up to ``total``:
        the rounding rest goes to the largest part."""
        parts = [currency.round(part) for part in parts]
        rest = currency.round(total - sum(parts))
        if parts and not currency.is_zero(rest):
            index = max(range(len(parts)), key=lambda i: abs(parts[i]))
            parts[index] = currency.round(parts[index] + rest)
        return parts

    def _get_line_taxes(self, move, lines):
        """[(tax, tax_company)] of the product ``lines`` of ``move``, signed
        as billed: each line's own tax, converted at the invoice's rate, and
        the rounding difference with the invoice's tax lines (its ledger, in
        the invoice and the company currency) on the line of the largest
        tax, so that the lines add up to the ledger to the unit of each
        currency whatever the rounding (per line or global) and the rate."""
        sign = -1 if move.move_type == "out_refund" else 1
        tax_lines = move.line_ids.filtered("tax_line_id")
        company_currency = move.company_id.currency_id
        taxes = self._spread_rest(
            -sum(tax_lines.mapped("amount_currency")),
            [sign * (line.price_total - line.price_subtotal) for line in lines],
            move.currency_id,
        )
        rate = move.invoice_currency_rate or 1.0
        taxes_company = self._spread_rest(
            -sum(tax_lines.mapped("balance")),
            [tax / rate for tax in taxes],
            company_currency,
        )
        return list(zip(taxes, taxes_company, strict=True))

    def _get_export_rows(self, moves):
        """One row per invoice line, signed: credit notes are negative (hook)."""
        rows = []
        for move in moves.sorted(lambda m: (m.invoice_date, m.name)):
            lines = move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            )
            line_taxes = self._get_line_taxes(move, lines)
            for line, taxes in zip(lines, line_taxes, strict=True):
                values = self._get_export_row_values(move, line, *taxes)
                rows.append(self._get_export_row(move, values))
        return rows

    def _get_export_row(self, move, values):
        """The row of ``values`` ({column: value}), money rounded as the
        currency it is in."""
        currencies = {
            "currency": move.currency_id,
            "company_currency": move.company_id.currency_id,
        }
        return [
            self._money(
                values[column], currencies[self._get_money_currency_column(column)]
            )
            if column in self.EXPORT_MONEY_COLUMNS
            else values[column]
            for column in self.EXPORT_COLUMNS
        ]

    def _get_export_row_values(self, move, line, tax, tax_company):
        """{column: value} of the invoice ``line`` of ``move``; ``tax`` and
        ``tax_company`` its share of the invoice's tax (``_get_line_taxes``)."""
        sign = -1 if move.move_type == "out_refund" else 1
        partner = move.commercial_partner_id
        receivable = move.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        ).account_id[:1]
        untaxed = sign * line.price_subtotal
        untaxed_company = -line.balance
        taxes = line.tax_ids
        return {
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
            "untaxed": untaxed,
            "tax": tax,
            "total": untaxed + tax,
            "currency": move.currency_id.name,
            "tax_codes": "|".join(taxes.mapped("name")),
            "tax_rates": "|".join(format(rate, "g") for rate in taxes.mapped("amount")),
            "untaxed_company": untaxed_company,
            "tax_company": tax_company,
            "total_company": untaxed_company + tax_company,
            "company_currency": move.company_id.currency_id.name,
            "invoice_total": move.amount_total_in_currency_signed,
            "invoice_total_company": move.amount_total_signed,
            "receivable_account": receivable.code or "",
        }

    def _get_export_digits(self, header, rows):
        """Per row, {column index: decimals} of its money cells: the decimal
        places of the currency each is in (named in the row)."""
        col = {name: index for index, name in enumerate(header)}
        money = [
            (col[name], col[self._get_money_currency_column(name)])
            for name in header
            if name in self.EXPORT_MONEY_COLUMNS
        ]
        codes = {row[currency_col] for row in rows for _index, currency_col in money}
        currencies = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list(codes))])
        )
        decimals = {currency.name: currency.decimal_places for currency in currencies}
        return [
            {index: decimals.get(row[currency_col], 2) for index, currency_col in money}
            for row in rows
        ]

    def _write_files(self, moves):
        self.ensure_one()
        header = self._get_export_header()
        rows = self._get_export_rows(moves)
        digits = self._get_export_digits(header, rows)
        base_name = self.name.replace("/", "_")
        self.write(
            {
                "xlsx_file": base64.b64encode(
                    self._build_xlsx(header, rows, digits=digits)
                ),
                "xlsx_filename": f"{base_name}.xlsx",
                "csv_file": base64.b64encode(
                    self._build_csv(header, rows, digits=digits)
                ),
                "csv_filename": f"{base_name}.csv",
            }
        )

    @api.model
    def _get_quantity_digits(self):
        return self.env["decimal.precision"].precision_get("Product Unit of Measure")

    @api.model
    def _get_cell_digits(self, header, digits, row_index, col):
        """Decimals of a number cell: the quantity's precision, a money
        cell's currency decimals (``digits``, per row), else 2."""
        if header[col] == "quantity":
            return self._get_quantity_digits()
        if digits is None:
            return 2
        return digits[row_index].get(col, 2)

    @api.model
    def _get_cell_num_format(self, header, digits, row_index, col):
        """XLSX number format of a number cell."""
        places = self._get_cell_digits(header, digits, row_index, col)
        decimals = "." + "0" * places if places else ""
        return ("0" if header[col] == "quantity" else "#,##0") + decimals

    @api.model
    def _build_xlsx(self, header, rows, sheet_name="Invoices", digits=None):
        """Numbers as numbers, shown with their decimals (``digits``: per
        row, {column index: decimals} of its money cells; 2 if not given)."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_row(0, 0, header, workbook.add_format({"bold": True}))
        formats = {}
        for index, row in enumerate(rows):
            for col, value in enumerate(row):
                if not isinstance(value, float):
                    sheet.write(index + 1, col, value)
                    continue
                num_format = self._get_cell_num_format(header, digits, index, col)
                if num_format not in formats:
                    formats[num_format] = workbook.add_format(
                        {"num_format": num_format}
                    )
                sheet.write_number(index + 1, col, value, formats[num_format])
        sheet.freeze_panes(1, 0)
        workbook.close()
        return output.getvalue()

    @api.model
    def _build_csv(self, header, rows, digits=None):
        """Numbers with a dot, money with its currency's decimals (``digits``:
        per row, {column index: decimals} of its money cells; 2 if not given),
        quantities with the unit of measure precision, whatever the user's
        language."""
        output = io.StringIO()
        writer = csv.writer(output, delimiter=";")
        writer.writerow(header)
        for index, row in enumerate(rows):
            writer.writerow(
                [
                    float_repr(value, self._get_cell_digits(header, digits, index, col))
                    if isinstance(value, float)
                    else value
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
