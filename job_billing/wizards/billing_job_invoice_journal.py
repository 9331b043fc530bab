import base64
import functools
import io
from datetime import date

import xlsxwriter
from dateutil.relativedelta import relativedelta

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
    date_from = fields.Date(
        required=True, default=lambda self: self._get_default_dates()[0]
    )
    date_to = fields.Date(
        required=True, default=lambda self: self._get_default_dates()[1]
    )
    include_draft = fields.Boolean(string="Include Draft Invoices")

    @api.model
    def _get_default_dates(self):
        """(first day, last day) of the previous calendar month, as the
        user's clock says it (their time zone), like Odoo's reports."""
        today = fields.Date.context_today(self)
        date_to = today.replace(day=1) - relativedelta(days=1)
        return date_to.replace(day=1), date_to

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
    # language (docs/user-guide-job-billing.md, "Invoice Journal"); dates are
    # date cells shown as JOURNAL_DATE_FORMAT, money columns numbers rounded
    # to their currency's decimals
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
        "currency",
    ]
    JOURNAL_MONEY_COLUMNS = ["untaxed", "tax", "total", "amount_due"]
    JOURNAL_DATE_FORMAT = "yyyy-mm-dd"

    def _get_header(self):
        return list(self.JOURNAL_COLUMNS)

    def _get_row_values(self, move):
        """{column: value} of one invoice, signed (credit notes negative);
        the invoice date is a date."""
        sign = -1 if move.move_type == "out_refund" else 1
        return {
            "invoice": move.name
            if move.name and move.name != "/"
            else f"Draft #{move.id}",
            "invoice_date": move.invoice_date,
            "customer": move.partner_id.display_name,
            "job": move.job_id.name,
            "job_invoice_type": move.job_invoice_type or "",
            "job_invoice_policy": move.job_invoice_policy or "",
            "job_workflow_state": move.job_workflow_state or "",
            "untaxed": sign * move.amount_untaxed,
            "tax": sign * move.amount_tax,
            "total": sign * move.amount_total,
            "amount_due": sign * move.amount_residual,
            "currency": move.currency_id.name,
        }

    def _get_rows(self, moves):
        """One row per invoice, signed (credit notes negative), and a total
        row per currency ("total" in the first column, the currency in the
        last: amounts of different currencies are never added); with, per
        row, {column index: decimals} of its money cells (the currency's)."""
        money = self.env["billing.job.export"]._money
        money_indexes = [
            self.JOURNAL_COLUMNS.index(column) for column in self.JOURNAL_MONEY_COLUMNS
        ]
        rows, digits = [], []
        totals = {}
        for move in moves:
            values = self._get_row_values(move)
            currency_totals = totals.setdefault(
                move.currency_id, dict.fromkeys(self.JOURNAL_MONEY_COLUMNS, 0.0)
            )
            for column in self.JOURNAL_MONEY_COLUMNS:
                values[column] = money(values[column], move.currency_id)
                currency_totals[column] += values[column]
            rows.append([values[column] for column in self.JOURNAL_COLUMNS])
            digits.append(dict.fromkeys(money_indexes, move.currency_id.decimal_places))
        currencies = sorted(totals, key=lambda currency: currency.name) or [
            self.company_id.currency_id
        ]
        for currency in currencies:
            total_row = dict.fromkeys(self.JOURNAL_COLUMNS, "")
            for column in self.JOURNAL_MONEY_COLUMNS:
                total_row[column] = money(
                    totals.get(currency, {}).get(column, 0.0), currency
                )
            total_row[self.JOURNAL_COLUMNS[0]] = "total"
            total_row["currency"] = currency.name
            rows.append([total_row[column] for column in self.JOURNAL_COLUMNS])
            digits.append(dict.fromkeys(money_indexes, currency.decimal_places))
        return rows, digits

    def _build_xlsx(self, header, rows, digits):
        """The journal's sheet: dates as date cells (JOURNAL_DATE_FORMAT),
        money as numbers with their currency's decimals (``digits``, per
        row), a frozen header row and an autofilter over the invoice rows
        (the total rows, last, stay out of it)."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet("Invoice Journal")
        sheet.write_row(0, 0, header, workbook.add_format({"bold": True}))
        get_format = functools.cache(
            lambda num_format: workbook.add_format({"num_format": num_format})
        )
        widths = [len(name) for name in header]
        for index, row in enumerate(rows):
            for col, value in enumerate(row):
                shown = self._write_cell(
                    sheet, get_format, (index + 1, col), value, digits[index].get(col)
                )
                widths[col] = max(widths[col], len(shown))
        for col, width in enumerate(widths):
            # wide enough for spreadsheets to show dates and numbers, not ###
            sheet.set_column(col, col, min(width, 60) + 2)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(
            0, 0, max(sum(row[0] != "total" for row in rows), 1), len(header) - 1
        )
        workbook.close()
        return output.getvalue()

    def _write_cell(self, sheet, get_format, position, value, places):
        """Write ``value`` at ``position`` (row, column): a number shown with
        ``places`` decimals (2 if None), a date, a text, nothing if empty;
        the text a spreadsheet shows, for the column's width."""
        if isinstance(value, float):
            places = 2 if places is None else places
            num_format = "#,##0" + ("." + "0" * places if places else "")
            sheet.write_number(*position, value, get_format(num_format))
            return f"{value:,.{places}f}"
        if isinstance(value, date):
            sheet.write_datetime(*position, value, get_format(self.JOURNAL_DATE_FORMAT))
            return self.JOURNAL_DATE_FORMAT
        if not value:
            return ""
        sheet.write_string(*position, str(value))
        return str(value)

    def _generate_journal(self):
        self.ensure_one()
        moves = self.env["account.move"].search(
            self._get_moves_domain(), order="invoice_date, name, id"
        )
        if not moves:
            raise UserError(self.env._("No job invoice is dated in this range."))
        rows, digits = self._get_rows(moves)
        content = self._build_xlsx(self._get_header(), rows, digits)
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
        """Download the journal and close the dialog. Odoo 18's web client
        honours ``close`` only on an ``act_url`` opened in a new window
        (action_service.js, ``_executeActURLAction``; Odoo's own
        ``account.move.send.wizard`` downloads so): the browser saves the
        file and drops the tab. With target "self" or "download" ``close``
        is ignored and the dialog stays open."""
        attachment = self._generate_journal()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "new",
            "close": True,
        }
