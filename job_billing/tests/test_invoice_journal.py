import base64
import io
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import Command, fields
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import JobBillingCommon, PhoneWidthMixin


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestInvoiceJournal(JobBillingCommon):
    """The Invoice Journal dialog (``billing.job.invoice.journal``): the
    previous month by default, an XLSX a spreadsheet sorts and filters, and
    the dialog closes on the download."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # invoices of the previous months
        cls.company.job_invoice_backdating_days = 60
        cls.job = cls._create_repair_job()
        cls.job.action_close()

    def setUp(self):
        super().setUp()
        self.deposit = self._invoice(
            self.job, "deposit", amount=200.0, invoice_date=date(2026, 2, 3), post=True
        )
        self.final = self._invoice(
            self.job, "final", invoice_date=date(2026, 2, 27), post=True
        )
        self.credit = self._invoice(
            self.job,
            "correction",
            amount=-50.0,
            reason="Discount",
            invoice_date=date(2026, 2, 14),
            post=True,
        )

    def _journal(self, **values):
        return self.env["billing.job.invoice.journal"].create(
            {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28), **values}
        )

    def _sheet(self, wizard):
        content = base64.b64decode(wizard._generate_journal().datas)
        return load_workbook(io.BytesIO(content)).active

    def test_journal_dates_are_date_cells(self):
        """The invoice date is a date cell shown yyyy-mm-dd, the rows in date
        order; the money cells numbers with the currency's decimals."""
        sheet = self._sheet(self._journal())
        moves = self.deposit | self.credit | self.final
        self.assertEqual(sheet.max_row, len(moves) + 2, "header, invoices, total")
        for row, move in zip(sheet.iter_rows(min_row=2), moves, strict=False):
            self.assertEqual(row[0].value, move.name)
            cell = row[1]
            self.assertTrue(cell.is_date, move.name)
            self.assertEqual(cell.value.date(), move.invoice_date)
            self.assertEqual(cell.number_format, "yyyy-mm-dd")
            for money in row[7:11]:
                self.assertIsInstance(money.value, float | int)
                self.assertEqual(money.number_format, "#,##0.00")
        self.assertEqual(
            [cell.value for cell in sheet[3][7:11]], [-50.0, -7.5, -57.5, -57.5]
        )
        total = sheet[sheet.max_row]
        self.assertEqual(total[0].value, "total")
        self.assertIsNone(total[1].value)
        self.assertEqual([cell.value for cell in total[7:10]], [1000.0, 150.0, 1150.0])
        # wide enough to show the dates and amounts, not ###
        self.assertGreaterEqual(sheet.column_dimensions["B"].width, 10)

    def test_journal_header_frozen_and_filtered(self):
        """The header row stays in view; the autofilter covers the header and
        the invoice rows, not the total row under them."""
        sheet = self._sheet(self._journal())
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertEqual(sheet.auto_filter.ref, "A1:L4")
        self.assertEqual(sheet["A5"].value, "total")
        # a draft more: the filter grows with the rows
        draft = self._invoice(
            self.job,
            "correction",
            amount=-20.0,
            reason="Draft only",
            invoice_date=date(2026, 2, 28),
        )
        sheet = self._sheet(self._journal(include_draft=True))
        self.assertEqual(sheet.auto_filter.ref, "A1:L5")
        self.assertEqual(sheet["A5"].value, f"Draft #{draft.id}")
        self.assertEqual(sheet["A6"].value, "total")

    def test_journal_money_in_the_currency_decimals(self):
        """An invoice in a 3-decimal currency shows its 3 decimals."""
        currency_3 = self.env["res.currency"].create(
            {
                "name": "XJJ",
                "symbol": "J",
                "rounding": 0.001,
                "rate_ids": [
                    Command.create(
                        {
                            "name": "2026-01-01",
                            "rate": 2.0,
                            "company_id": self.company.id,
                        }
                    )
                ],
            }
        )
        job = self._create_job(charges=[("labour", self.product_installer, 1, 10.01)])
        move = self._invoice(job, "progress_itemized", invoice_date=date(2026, 1, 15))
        move.currency_id = currency_3
        move.action_post()
        sheet = self._sheet(
            self._journal(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
        )
        self.assertEqual(sheet["A2"].value, move.name)
        self.assertEqual(sheet["J2"].value, move.amount_total)
        self.assertEqual(sheet["J2"].number_format, "#,##0.000")
        self.assertEqual(sheet["L2"].value, "XJJ")
        # its own total row: never added to another currency's amounts
        self.assertEqual(
            [sheet["A3"].value, sheet["J3"].value, sheet["L3"].value],
            ["total", move.amount_total, "XJJ"],
        )

    def test_journal_default_previous_month(self):
        """The dialog opens on the previous calendar month."""
        self.env.user.tz = "UTC"
        form = Form(self.env["billing.job.invoice.journal"])
        self.assertEqual(form.date_from, date(2026, 2, 1))
        self.assertEqual(form.date_to, date(2026, 2, 28))
        with freeze_time("2026-01-15 12:00:00"):
            defaults = self.env["billing.job.invoice.journal"].default_get(
                ["date_from", "date_to"]
            )
        self.assertEqual(
            defaults, {"date_from": date(2025, 12, 1), "date_to": date(2025, 12, 31)}
        )

    def test_journal_default_previous_month_user_time_zone(self):
        """On 1 March at 03:00 UTC it is still 28 February in New York: the
        previous month is January there, February in UTC."""
        journal = self.env["billing.job.invoice.journal"]
        with freeze_time("2026-03-01 03:00:00"):
            self.env.user.tz = "America/New_York"
            self.assertEqual(
                journal.default_get(["date_from", "date_to"]),
                {"date_from": date(2026, 1, 1), "date_to": date(2026, 1, 31)},
            )
            self.env.user.tz = "UTC"
            self.assertEqual(
                journal.default_get(["date_from", "date_to"]),
                {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28)},
            )
        # and the other way: already 1 March in Auckland
        with freeze_time("2026-02-28 20:00:00"):
            self.assertEqual(
                journal.with_context(tz="Pacific/Auckland").default_get(
                    ["date_from", "date_to"]
                )["date_from"],
                date(2026, 2, 1),
            )

    def test_journal_download_closes_the_dialog(self):
        """The download is an act_url the web client opens and then closes
        the dialog (``close``; Odoo 18 ignores it with target "download")."""
        wizard = self._journal()
        action = wizard.action_generate()
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", wizard._name), ("res_id", "=", wizard.id)]
        )
        self.assertEqual(len(attachment), 1)
        self.assertEqual(
            action,
            {
                "type": "ir.actions.act_url",
                "url": f"/web/content/{attachment.id}?download=true",
                "target": "new",
                "close": True,
            },
        )
        self.assertEqual(attachment.name, "invoice_journal_2026-02-01_2026-02-28.xlsx")


@tagged("post_install", "-at_install")
class TestInvoiceJournalTour(PhoneWidthMixin, JobBillingCommon, HttpCase):
    """In the browser: the dialog opens on the previous month, Download
    closes it (the web client's handling of ``close``); no frozen clock, the
    browser runs on the real one."""

    def test_invoice_journal_tour(self):
        self.env.user.tz = "UTC"
        self.company.job_invoice_backdating_days = 62
        date_to = fields.Date.context_today(self.env.user).replace(day=1) - (
            relativedelta(days=1)
        )
        job = self._create_repair_job()
        move = self._invoice(
            job, "deposit", amount=200.0, invoice_date=date_to, post=True
        )
        job_user = new_test_user(
            self.env,
            login="journal_job_user",
            groups="job_billing.group_job_billing_user",
            tz="UTC",
        )
        for user in (job_user, self.env.user):  # Job Billing User and Manager
            self.start_tour(
                "/odoo", "job_billing_invoice_journal_tour", login=user.login
            )
            self.browser_size = "390x844"
            self.touch_enabled = True
            self.start_tour(
                "/odoo/action-job_billing.action_billing_job_invoice_journal",
                "job_billing_invoice_journal_phone_tour",
                login=user.login,
            )
            self.browser_size, self.touch_enabled = "1366x768", False
        wizard = self.env["billing.job.invoice.journal"].search(
            [], order="id desc", limit=1
        )
        self.assertEqual(
            (wizard.date_from, wizard.date_to), (date_to.replace(day=1), date_to)
        )
        sheet = load_workbook(
            io.BytesIO(base64.b64decode(wizard._generate_journal().datas))
        ).active
        self.assertEqual(sheet["A2"].value, move.name)
