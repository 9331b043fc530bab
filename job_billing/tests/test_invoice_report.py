from freezegun import freeze_time

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestInvoiceReport(JobBillingCommon):
    """The invoice PDF shows the job, the policy, the progress, the deposits
    deducted and the amount in words in the customer's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_job(
            charges=[
                ("labour", cls.product_installer, 20, 150.0),
                ("materials", cls.product_pipe, 10, 50.0),
            ],
            billing_type="fixed_price",
            fixed_price=4000.0,
        )

    def _html(self, move):
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "account.account_invoices", move.ids
        )
        return html.decode()

    def test_final_invoice_document(self):
        self._invoice(self.job, "deposit", percent=25.0, post=True)
        self.job.action_close()
        final = self._invoice(self.job, "final", post=True)
        # 3,500.00 + 500.00 adjustment - 1,000.00 deposit = 3,000.00, 3,450.00 taxed
        self.assertMoney(final, 3000.0, 450.0, 3450.0)
        html = self._html(final)
        self.assertIn(self.job.name, html)
        self.assertIn("Complete (Final)", html)
        self.assertIn("Deposits Deducted", html)
        self.assertIn("1,000.00", html)
        self.assertIn("100.00</span> % invoiced", html)
        words = final._get_job_amount_in_words()
        self.assertIn("Three Thousand, Four Hundred And Fifty", words)
        self.assertIn(words, html)

    def test_amount_in_words_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        deposit = self._invoice(self.job, "deposit", amount=1000.0, post=True)
        self.assertMoney(deposit, 1000.0, 150.0, 1150.0)
        self.assertIn("Mille Cent Cinquante", deposit._get_job_amount_in_words())
        html = self._html(deposit)
        self.assertIn("Mille Cent Cinquante", html)
        self.assertIn(self.job.name, html)

    def test_invoice_without_job_unchanged(self):
        move = self.init_invoice(
            "out_invoice", products=self.product_installer, post=True
        )
        html = self._html(move)
        self.assertNotIn("job_informations", html)
        self.assertNotIn("Amount in words:", html)
