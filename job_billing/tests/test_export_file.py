import base64
import csv
import io
from collections import defaultdict

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestExportFile(JobBillingCommon):
    """The file the accounting system imports: stable columns, the same
    content in CSV and XLSX, reconciled with the invoices to the cent."""

    def test_csv_and_xlsx_reconcile_with_the_invoices(self):
        self.company.job_accounting_integration = True
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 2.5, 80.0),
                ("materials", self.product_pipe, 3, 12.5),
            ],
        )
        installer = self._item(job, self.product_installer)
        deposit = self._invoice(job, "deposit", amount=33.33)
        progress = self._invoice(job, "progress_itemized", quantities={installer: 2.5})
        progress.invoice_line_ids.discount = 3.0
        credit = self._invoice(job, "correction", amount=-0.01, reason="Rounding")
        moves = deposit | progress | credit
        moves.action_job_approve()
        self.env["res.lang"]._activate_lang("fr_FR")
        batch = (
            self.env["billing.job.export"]
            .with_context(lang="fr_FR")
            ._export_moves(moves)
        )
        csv_rows, col = self._check_same_content(batch)
        self._check_reconciled(moves, csv_rows, col)
        by_invoice = {row[col["invoice"]]: row for row in csv_rows[1:]}
        credit_row = by_invoice[credit.name]
        self.assertEqual(credit_row[col["move_type"]], "out_refund")
        self.assertEqual(credit_row[col["untaxed"]], "-0.01")
        self.assertEqual(credit_row[col["invoice_total"]], "-0.01")
        self.assertEqual(credit_row[col["tax"]], "0.00")
        progress_row = next(
            row for row in csv_rows[1:] if row[col["invoice"]] == progress.name
        )
        digits = batch._get_quantity_digits()
        self.assertEqual(progress_row[col["quantity"]], f"{2.5:.{digits}f}")
        self.assertEqual(progress_row[col["tax_rates"]], "15")
        self.assertEqual(progress_row[col["tax_codes"]], self.tax_15.name)
        self.assertEqual(
            progress_row[col["receivable_account"]],
            progress.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            ).account_id.code,
        )
        self.assertEqual(progress_row[col["job_invoice_policy"]], "progress_itemized")
        self.assertEqual(progress_row[col["currency"]], self.company.currency_id.name)

    def _check_same_content(self, batch):
        """CSV and XLSX: the same header and cells; returns the CSV rows and
        the column indexes."""
        csv_rows = list(
            csv.reader(
                io.StringIO(base64.b64decode(batch.csv_file).decode()), delimiter=";"
            )
        )
        sheet = load_workbook(io.BytesIO(base64.b64decode(batch.xlsx_file))).active
        xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        header = csv_rows[0]
        self.assertEqual(header, batch._get_export_header())
        self.assertEqual(xlsx_rows[0], header)
        self.assertEqual(len(csv_rows), len(xlsx_rows))
        col = {name: index for index, name in enumerate(header)}
        digits = batch._get_quantity_digits()
        for csv_row, xlsx_row in zip(csv_rows[1:], xlsx_rows[1:], strict=True):
            for name, index in col.items():
                value = xlsx_row[index]
                if name == "quantity":
                    value = f"{value:.{digits}f}"
                elif name in batch.EXPORT_MONEY_COLUMNS:
                    value = f"{value:.2f}"
                self.assertEqual(csv_row[index], value or "", name)
            self.assertNotIn("-0.00", csv_row)
        return csv_rows, col

    def _check_reconciled(self, moves, csv_rows, col):
        """Each invoice's lines add up to its amounts, to the cent."""
        sums = defaultdict(float)
        for row in csv_rows[1:]:
            for name in ("untaxed", "tax", "total", "untaxed_company"):
                sums[row[col["invoice"]], name] += float(row[col[name]])
        for move in moves:
            for name, amount in (
                ("untaxed", move.amount_untaxed_signed),
                ("untaxed_company", move.amount_untaxed_signed),
                ("tax", move.amount_tax_signed),
                ("total", move.amount_total_signed),
            ):
                self.assertAlmostEqual(sums[move.name, name], amount, 2, name)
