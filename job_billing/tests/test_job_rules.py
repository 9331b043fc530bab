from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestJobRules(JobBillingCommon):
    """The job's figures stay true whatever is done, through the ORM as a Job
    Billing User: progress never bills more than the job, drafts,
    cancellations and deletions, the status, the allocations and the cron."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.biller = cls.env["res.users"].create(
            {
                "name": "Job biller",
                "login": "jb_rules_biller",
                "email": "biller@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(cls.env.ref("job_billing.group_job_billing_user").ids)
                ],
            }
        )
        # a 1,000.00 fixed price job: 10 h x 80.00 + 16 m x 12.50
        cls.job = cls._create_job(
            charges=[
                ("labour", cls.product_installer, 10, 80.0),
                ("materials", cls.product_pipe, 16, 12.5),
            ],
            billing_type="fixed_price",
            fixed_price=1000.0,
        )
        cls.installer = cls._item(cls.job, cls.product_installer)
        cls.pipe = cls._item(cls.job, cls.product_pipe)

    # ------------------------------------------------------------------ step 2
    def test_progress_never_bills_more_than_the_job(self):
        job = self.job
        self._invoice(job, "progress_summary", percent=50.0, post=True)
        # itemized progress offering every item in full: 1,000.00 > 500.00 left
        wizard = Form(
            self.env["billing.job.invoice"].with_context(
                default_job_id=job.id, default_policy="progress_itemized"
            )
        )
        self.assertIn("more than the $\xa0500.00 left to bill", wizard.preview_error)
        for policy in ("progress_itemized", "progress_itemized_grouped"):
            with self.assertRefused(r"more than the \$\xa0500\.00 left to bill"):
                self._invoice(job, policy)
        grouped = self._invoice(
            job,
            "progress_itemized_grouped",
            quantities={self.installer: 5},
            post=True,
        )
        self.assertMoney(grouped, 400.0, 60.0, 460.0)
        self.assertAlmostEqual(job.amount_to_invoice, 100.0, places=2)
        with self.assertRefused(r"more than the \$\xa0100\.00 left to bill"):
            self._invoice(job, "progress_itemized", quantities={self.pipe: 16})
        job.action_close()
        final = self._invoice(job, "final", post=True)
        # installer 5 h 400.00 + pipe 200.00, less 500.00 of summary progress
        self.assertMoney(final, 100.0, 15.0, 115.0)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 1000.0, 1150.0)

    def test_deposit_then_itemized_never_leaves_a_negative_final(self):
        job = self.job
        self._invoice(job, "deposit", percent=90.0, post=True)
        self._invoice(job, "progress_summary", percent=50.0, post=True)
        progress = self._invoice(
            job, "progress_itemized", quantities={self.installer: 5}, post=True
        )
        # 400.00, less 900.00 x 400.00 / 1,000.00
        self.assertMoney(progress, 40.0, 6.0, 46.0)
        self.assertAlmostEqual(job.deposit_balance, 90.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 100.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 10.0, 1.5, 11.5)
        self.assertBilled(job, 1000.0, 1150.0)

    def test_price_below_what_is_billed_is_refused(self):
        job = self.job
        self._invoice(job, "progress_summary", percent=60.0, post=True)
        with self.assertRefused(r"more than the job price of \$\xa0500\.00"):
            job.with_user(self.biller).fixed_price = 500.0
        job.fixed_price = 600.0
        self.assertAlmostEqual(job.amount_to_invoice, 0.0, places=2)
        # time and material: the price of a billed item
        repair = self._create_repair_job()
        installer = self._item(repair, self.product_installer)
        self._invoice(repair, "progress_itemized", quantities={installer: 10})
        with self.assertRefused(r"more than the job price of \$\xa0750\.00"):
            installer.with_user(self.biller).price_unit = 50.0
        with self.assertRefused("already invoiced"):
            installer.quantity = 5

    # ------------------------------------------------------------------ step 3
    def test_deducted_deposit_cannot_be_cancelled_or_deleted(self):
        job = self.job.with_user(self.biller)
        deposit = self._invoice(job, "deposit", amount=200.0, post=True)
        self._invoice(job, "progress_summary", percent=50.0, post=True)
        self.assertAlmostEqual(job.deposit_balance, 100.0, places=2)
        deposit = deposit.with_user(self.biller)
        deposit.button_draft()
        with self.assertRefused("already deducted"):
            deposit.button_cancel()
        with self.assertRefused("already deducted"):
            deposit.unlink()
        with self.assertRefused("already deducted"):
            deposit.invoice_line_ids.price_unit = 50.0
        deposit.action_post()
        # drafts count as well: a draft deposit deducted by a draft progress
        other = self._create_repair_job()
        draft_deposit = self._invoice(other, "deposit", amount=105.0)
        self._invoice(other, "progress_summary", percent=50.0)
        self.assertAlmostEqual(other.deposit_balance, 52.5, places=2)
        with self.assertRefused("already deducted"):
            draft_deposit.with_user(self.biller).unlink()
        with self.assertRefused("already deducted"):
            draft_deposit.with_user(self.biller).button_cancel()
        self.assertAlmostEqual(other.deposit_balance, 52.5, places=2)

    def test_regenerate_keeps_the_chosen_quantities(self):
        job = self.job
        progress = self._invoice(
            job, "progress_itemized", quantities={self.installer: 4}
        )
        self.assertMoney(progress, 320.0, 48.0, 368.0)
        job.invoiceable_ids = [
            Command.create(
                {
                    "charge_category": "expenses",
                    "product_id": self.product_travel.id,
                    "quantity": 1,
                    "price_unit": 60.0,
                }
            )
        ]
        self.installer.price_unit = 90.0
        job.with_user(self.biller).action_regenerate_drafts()
        self.assertEqual(progress.invoice_line_ids.product_id, self.product_installer)
        self.assertEqual(progress.invoice_line_ids.quantity, 4.0)
        self.assertMoney(progress, 360.0, 54.0, 414.0)
        self.assertEqual(self.installer.qty_invoiced, 4.0)

    # ------------------------------------------------------------------ step 4
    def test_status_follows_the_invoices(self):
        job = self.job.with_user(self.biller)
        with self.assertRefused("cannot be billed without its posted final"):
            job.state = "billed"
        with self.assertRefused("cannot be billed without its posted final"):
            self.env["billing.job"].with_user(self.biller).create(
                {"partner_id": self.customer.id, "state": "billed"}
            )
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertEqual(job.state, "billed")
        for state in ("open", "closed"):
            with self.assertRefused("is billed by its final invoice"):
                job.write({"state": state})
        final.with_user(self.biller).button_draft()
        self.assertEqual(job.state, "closed")
        with self.assertRefused("has a complete \\(final\\) invoice"):
            job.write({"state": "open"})
        final.with_user(self.biller).action_post()
        self.assertEqual(job.state, "billed")

    def test_allocations_are_set_by_the_server_only(self):
        move = self._invoice(
            self.job, "progress_itemized", quantities={self.installer: 4}
        )
        allocation = move.invoice_line_ids.job_allocation_ids
        self.assertEqual(allocation.quantity, 4.0)
        Allocation = self.env["billing.job.allocation"].with_user(self.biller)
        self.assertEqual(Allocation.search([]), allocation)
        with self.assertRefused("not allowed to create", AccessError):
            Allocation.create(
                {
                    "move_line_id": move.invoice_line_ids.id,
                    "invoiceable_id": self.pipe.id,
                    "quantity": 16,
                    "amount": 200.0,
                }
            )
        with self.assertRefused("not allowed to modify", AccessError):
            allocation.with_user(self.biller).quantity = 10
        with self.assertRefused("not allowed to delete", AccessError):
            allocation.with_user(self.biller).unlink()
        with self.assertRefused("cannot be changed", AccessError):
            move.invoice_line_ids.with_user(self.biller).job_allocation_ids = [
                Command.create({"invoiceable_id": self.pipe.id, "quantity": 16})
            ]
        # a line added to a job invoice bills only its own job's items
        other = self._create_repair_job()
        with self.assertRefused("cannot bill"):
            move.with_user(self.biller).invoice_line_ids = [
                Command.create(
                    {
                        "product_id": self.product_installer.id,
                        "job_line_kind": "invoiceable",
                        "job_allocation_ids": [
                            Command.create(
                                {
                                    "invoiceable_id": other.invoiceable_ids[0].id,
                                    "quantity": 1,
                                    "amount": 80.0,
                                }
                            )
                        ],
                    }
                )
            ]
        self.assertEqual(self.installer.qty_invoiced, 4.0)

    def test_auto_post_needs_the_approval(self):
        self.company.job_accounting_integration = True
        move = self._invoice(self.job, "deposit", amount=100.0).with_user(self.biller)
        with self.assertRefused("cannot schedule"):
            move.auto_post = "at_date"
        with self.assertRefused("cannot recur"):
            move.sudo().auto_post = "monthly"
        # a manager schedules it: that is the approval, the cron posts it
        move.sudo().auto_post = "at_date"
        with self.assertRefused("cannot schedule or change"):
            move.invoice_line_ids.price_unit = 150.0
        move.invoice_line_ids.sudo().price_unit = 150.0
        move.journal_id.sudo().autocheck_on_post = True
        self.env["account.move"]._autopost_draft_entries()
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.job_workflow_state, "approved")
        self.assertMoney(move, 150.0, 22.5, 172.5)

    def test_reversal_and_copy_as_a_billing_user(self):
        job = self.job
        progress = self._invoice(job, "progress_summary", percent=40.0, post=True)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        with self.assertRefused("is billed"):
            self._reverse(progress, user=self.biller)
        with self.assertRefused("takes only correction invoices"):
            progress.with_user(self.biller).copy()
        credit = self._reverse(final, user=self.biller)
        self.assertEqual(job.state, "closed")
        credit.action_post()
        self.assertAlmostEqual(job.amount_to_invoice, 600.0, places=2)
        self.assertBilled(job, 400.0, 460.0)
