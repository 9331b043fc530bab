import io

import xlsxwriter

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
        """The XLSX content (bytes) of ``run``."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(run.name[:31])
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        headers = self._get_headers()
        for col, title in enumerate(headers):
            sheet.write(0, col, title, bold)
        for row, values in enumerate(self._get_rows(run.line_ids), start=1):
            for col, value in enumerate(values):
                if isinstance(value, float):
                    sheet.write_number(row, col, value, money)
                else:
                    sheet.write(row, col, value or "")
        sheet.set_column(0, len(headers) - 1, 18)
        workbook.close()
        return output.getvalue()
