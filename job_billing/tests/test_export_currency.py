import base64
import csv
import io
from collections import defaultdict

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import Command
from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestExportCurrencies(JobBillingCommon):
    """The export file reconciles with the ledger in every currency: each
    amount rounded as its currency rounds (half-up, to its own decimals), the
    tax read from the invoice's tax lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.job_accounting_integration = True
        # 3 decimals, 2.000 of it for 1.00 of the company's currency
        cls.currency_3 = cls.env["res.currency"].create(
            {
                "name": "XJB",
                "symbol": "J",
                "rounding": 0.001,
                "rate_ids": [
                    Command.create(
                        {
                            "name": "2026-01-01",
                            "rate": 2.0,
                            "company_id": cls.company.id,
                        }
                    )
                ],
            }
        )

    def _export(self, moves):
        """Approve and export ``moves``: the batch, the CSV rows by invoice
        and the column indexes."""
        moves.action_job_approve()
        batch = self.env["billing.job.export"]._export_moves(moves)
        rows = list(
            csv.reader(
                io.StringIO(base64.b64decode(batch.csv_file).decode()), delimiter=";"
            )
        )
        col = {name: index for index, name in enumerate(rows[0])}
        by_invoice = defaultdict(list)
        for row in rows[1:]:
            by_invoice[row[col["invoice"]]].append(row)
        return batch, by_invoice, col

    def _sums(self, rows, col):
        sums = defaultdict(float)
        for row in rows:
            for name in ("untaxed", "tax", "total"):
                sums[name] += float(row[col[name]])
                sums[f"{name}_company"] += float(row[col[f"{name}_company"]])
        return sums

    def _ledger_tax(self, move, field):
        return -sum(move.line_ids.filtered("tax_line_id").mapped(field))

    def test_three_decimal_currency(self):
        """10.01 and 20.03 at 15 % in a 3-decimal currency: taxes 1.502 and
        3.005 (a half unit each, rounded up); in the company's currency at
        2.000 for 1.00: 5.01 + 10.02 untaxed, the tax as the ledger has it."""
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 1, 10.01),
                ("materials", self.product_pipe, 1, 20.03),
            ],
        )
        move = self._invoice(job, "progress_itemized")
        move.currency_id = self.currency_3
        self.assertMoney(move, 30.04, 4.507, 34.547)
        batch, by_invoice, col = self._export(move)
        rows = by_invoice[move.name]
        self.assertEqual(
            sorted(
                (row[col["untaxed"]], row[col["tax"]], row[col["total"]])
                for row in rows
            ),
            [("10.010", "1.502", "11.512"), ("20.030", "3.005", "23.035")],
        )
        self.assertEqual(
            sorted(row[col["untaxed_company"]] for row in rows), ["10.02", "5.01"]
        )
        for row in rows:
            self.assertEqual(row[col["currency"]], "XJB")
            self.assertEqual(row[col["invoice_total"]], "34.547")
            self.assertEqual(
                row[col["invoice_total_company"]],
                f"{move.amount_total_signed:.2f}",
            )
        sums = self._sums(rows, col)
        self.assertAlmostEqual(sums["untaxed"], 30.04, places=3)
        self.assertAlmostEqual(sums["tax"], 4.507, places=3)
        self.assertAlmostEqual(sums["total"], 34.547, places=3)
        # the company's currency: the ledger, to the cent
        self.assertAlmostEqual(
            sums["untaxed_company"], move.amount_untaxed_signed, places=2
        )
        self.assertAlmostEqual(
            sums["tax_company"], self._ledger_tax(move, "balance"), places=2
        )
        self.assertAlmostEqual(
            sums["total_company"], move.amount_total_signed, places=2
        )
        self._check_xlsx(batch, rows, col)

    def _check_xlsx(self, batch, csv_rows, col):
        """The XLSX has the same numbers, shown with their currency's
        decimals."""
        sheet = load_workbook(io.BytesIO(base64.b64decode(batch.xlsx_file))).active
        cells = list(sheet.iter_rows(min_row=2))
        self.assertEqual(len(cells), len(csv_rows))
        csv_by_label = {row[col["label"]]: row for row in csv_rows}
        for xlsx_row in cells:
            csv_row = csv_by_label[xlsx_row[col["label"]].value]
            for name, places in (("untaxed", 3), ("tax", 3), ("tax_company", 2)):
                cell = xlsx_row[col[name]]
                self.assertEqual(f"{cell.value:.{places}f}", csv_row[col[name]])
                self.assertEqual(cell.number_format, "#,##0." + "0" * places)

    def test_half_cent_rounded_up_as_the_ledger(self):
        """Two lines of 0.35 at 15 %, taxes rounded globally: 0.0525 each,
        0.105 in all, which the ledger rounds up to 0.11 (half-even would
        make it 0.10, as would adding the lines' own rounded taxes). The
        file's lines add up to 0.11."""
        self.company.tax_calculation_rounding_method = "round_globally"
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 1, 0.35),
                ("materials", self.product_pipe, 1, 0.35),
            ],
        )
        move = self._invoice(job, "progress_itemized")
        self.assertMoney(move, 0.70, 0.11, 0.81)
        batch, by_invoice, col = self._export(move)
        rows = by_invoice[move.name]
        self.assertEqual(
            sorted(
                (row[col["untaxed"]], row[col["tax"]], row[col["total"]])
                for row in rows
            ),
            [("0.35", "0.05", "0.40"), ("0.35", "0.06", "0.41")],
        )
        sums = self._sums(rows, col)
        for name, amount in (
            ("untaxed", 0.70),
            ("tax", 0.11),
            ("total", 0.81),
            ("untaxed_company", 0.70),
            ("tax_company", 0.11),
            ("total_company", 0.81),
        ):
            self.assertAlmostEqual(sums[name], amount, places=2, msg=name)
        self.assertAlmostEqual(self._ledger_tax(move, "balance"), 0.11, places=2)
        # the file's rounding is the currency's: half-up, where Python's
        # round() goes to the even cent (or below, binary floats)
        usd = self.company.currency_id
        for value, rounded in ((0.105, 0.11), (2.675, 2.68), (0.125, 0.13)):
            self.assertNotEqual(round(value, 2), rounded)
            self.assertEqual(batch._money(value, usd), rounded)
        self.assertEqual(batch._money(-0.001, usd), 0.0)
        self.assertEqual(
            batch._build_csv(["untaxed"], [[batch._money(2.675, usd)]]),
            b"untaxed\r\n2.68\r\n",
        )

    def test_credit_note_in_three_decimals(self):
        """A credit note is negative, in its currency's decimals."""
        job = self._create_job(charges=[("labour", self.product_installer, 2, 80.0)])
        self._invoice(job, "progress_itemized", post=True)
        credit = self._invoice(job, "correction", amount=-10.01, reason="Goodwill")
        credit.currency_id = self.currency_3
        _batch, by_invoice, col = self._export(credit)
        (row,) = by_invoice[credit.name]
        self.assertEqual(row[col["move_type"]], "out_refund")
        self.assertEqual(
            (row[col["untaxed"]], row[col["tax"]], row[col["total"]]),
            ("-10.010", "-1.502", "-11.512"),
        )
        self.assertEqual(row[col["invoice_total"]], "-11.512")
        self.assertEqual(row[col["untaxed_company"]], "-5.01")
        self.assertEqual(
            float(row[col["tax_company"]]), self._ledger_tax(credit, "balance")
        )
