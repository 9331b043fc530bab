import io

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from odoo import api, models
from odoo.tools import html2plaintext


class BillingRunXlsx(models.AbstractModel):
    """A billing run's lines as an XLSX workbook, for the accountants' records."""

    _name = "report.invoice_manager.billing_run_xlsx"
    _description = "Billing Run XLSX Export"

    @api.model
    def _get_headers(self):
        return [
            self.env._("Customer"),
            self.env._("Sales"),
            self.env._("Currency"),
            self.env._("Amount to Invoice"),
            self.env._("Billing Action"),
            self.env._("Invoice Status"),
            self.env._("Invoices"),
            self.env._("Invoiced Amount"),
            self.env._("Delivery Channel"),
            self.env._("Delivery"),
            self.env._("Message"),
        ]

    @api.model
    def _get_rows(self, lines):
        fields = lines._fields
        channels = dict(fields["delivery_channel"].selection)
        actions = dict(fields["billing_action"].selection)
        states = dict(fields["state"].selection)
        delivery_states = dict(fields["delivery_state"].selection)
        for line in lines:
            channel = channels.get(line.delivery_channel, "")
            if line.delivery_email:
                channel = f"{channel} ({line.delivery_email})"
            yield [
                line.partner_id.display_name,
                ", ".join(line.sale_order_ids.mapped("name")),
                line.currency_id.name,
                line.amount_total,
                actions.get(line.billing_action),
                states.get(line.state),
                ", ".join(
                    (line.invoice_ids or line.elsewhere_invoice_ids).mapped("name")
                ),
                line.invoice_amount,
                channel,
                delivery_states.get(line.delivery_state, ""),
                html2plaintext(line.error_message or line.delivery_error or ""),
            ]

    @api.model
    def _render(self, run):
        """The XLSX content (bytes) of ``run``: a header row kept in view with
        a filter, one row per line, and a total row per currency (a SUMIF
        formula with its value: edits of the amounts keep it right; it sums
        every row of that currency, filtered or not)."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(run.name[:31])
        bold = workbook.add_format({"bold": True})
        formats = {}

        def money(currency, total=False):
            key = (currency.decimal_places if currency else 2, total)
            if key not in formats:
                digits = "." + "0" * key[0] if key[0] else ""
                formats[key] = workbook.add_format(
                    {"num_format": f"#,##0{digits}", "bold": total}
                )
            return formats[key]

        headers = self._get_headers()
        for col, title in enumerate(headers):
            sheet.write(0, col, title, bold)
        lines = run.line_ids
        self._write_lines(sheet, lines, money)
        sheet.autofilter(0, 0, len(lines), len(headers) - 1)
        sheet.freeze_panes(1, 0)
        self._write_totals(sheet, lines, bold, money)
        sheet.set_column(0, len(headers) - 1, 18)
        workbook.close()
        return output.getvalue()

    @api.model
    def _write_lines(self, sheet, lines, money):
        rows = zip(lines, self._get_rows(lines), strict=True)
        for row, (line, values) in enumerate(rows, start=1):
            for col, value in enumerate(values):
                if isinstance(value, float):
                    sheet.write_number(row, col, value, money(line.currency_id))
                else:
                    sheet.write(row, col, value or "")

    @api.model
    def _write_totals(self, sheet, lines, bold, money):
        """Below a blank row, a total row per currency: amount to invoice
        (column D) and invoiced (column H), summed over that currency's rows."""
        totals = {}
        for line in lines:
            amounts = totals.setdefault(line.currency_id, [0.0, 0.0])
            amounts[0] += line.amount_total
            amounts[1] += line.invoice_amount
        last = len(lines) + 1  # the last line's row, as the sheet numbers it
        currencies = sorted(totals, key=lambda currency: currency.name or "")
        for row, currency in enumerate(currencies, start=len(lines) + 2):
            sheet.write(row, 0, self.env._("Total"), bold)
            sheet.write(row, 2, currency.name or "", bold)
            for col, value in zip((3, 7), totals[currency], strict=True):
                sheet.write_formula(
                    row,
                    col,
                    '=SUMIF($C$2:$C${last},"{currency}",{col}$2:{col}${last})'.format(
                        last=last, currency=currency.name, col=xl_col_to_name(col)
                    ),
                    money(currency, True),
                    value,
                )
