from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import JobBillingCommon

# how Odoo writes money of the test company's currency (USD): its symbol, a
# no-break space, the amount grouped by thousands
USD = "$\N{NO-BREAK SPACE}"


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestJobBillingScreens(JobBillingCommon):
    """What the job billing screens show an accountant: posted and draft
    amounts apart, the status of a draft, the deposits the invoice wizard
    deducts, money written with its currency, the export offered only with
    the accounting integration."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # fixed price 10,000.00: a 30 % deposit and 40 % of progress posted,
        # then the final invoice in draft (6,000.00 less 1,800.00 of deposit)
        cls.job = cls._create_heat_pump_job()

    def _bill_until_final_draft(self):
        job = self.job
        self._invoice(job, "deposit", percent=30.0, post=True)
        self._invoice(job, "progress_summary", percent=40.0, post=True)
        job.action_close()
        return self._invoice(job, "final")

    def _selection_label(self, model, field, value):
        field = self.env[model]._fields[field]
        return dict(field._description_selection(self.env))[value]

    # ------------------------------------------------------------------ amounts
    def test_posted_and_draft_amounts_apart(self):
        job = self.job
        final = self._bill_until_final_draft()
        self.assertEqual(final.state, "draft")
        self.assertAlmostEqual(final.amount_untaxed, 4200.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced_posted, 4000.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced_draft, 6000.0, places=2)
        self.assertAlmostEqual(job.progress_percent_posted, 40.0, places=2)
        # the existing fields keep their meaning: drafts included
        self.assertAlmostEqual(job.amount_invoiced, 10000.0, places=2)
        self.assertAlmostEqual(job.progress_percent, 100.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 0.0, places=2)
        self.assertEqual(job.last_invoice_date, date(2026, 3, 10))

        final.action_post()
        self.assertAlmostEqual(job.amount_invoiced_posted, 10000.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced_draft, 0.0, places=2)
        self.assertAlmostEqual(job.progress_percent_posted, 100.0, places=2)

        # a draft credit note is a draft: off the posted figures once posted
        credit = self._reverse(final)
        self.assertEqual(credit.state, "draft")
        self.assertAlmostEqual(job.amount_invoiced_posted, 10000.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced_draft, -6000.0, places=2)
        credit.action_post()
        self.assertAlmostEqual(job.amount_invoiced_posted, 4000.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced_draft, 0.0, places=2)

    def test_draft_job_invoice_status_is_not_invoiced(self):
        deposit = self._invoice(self.job, "deposit", percent=30.0)
        self.assertEqual(deposit.job_workflow_state, "invoiced", "the code stays")
        label = self._selection_label(
            "account.move", "job_workflow_state", deposit.job_workflow_state
        )
        self.assertEqual(label, "Draft")
        deposit.action_post()
        self.assertEqual(
            self._selection_label(
                "account.move", "job_workflow_state", deposit.job_workflow_state
            ),
            "Posted",
        )
        deposit.button_draft()
        self.assertEqual(deposit.job_workflow_state, "invoiced")

    def test_regenerate_shows_only_with_a_draft(self):
        job = self.job
        self.assertFalse(job.has_draft_to_regenerate)
        deposit = self._invoice(job, "deposit", percent=30.0)
        self.assertTrue(job.has_draft_to_regenerate)
        deposit.action_post()
        self.assertFalse(job.has_draft_to_regenerate)
        # sent nor exported: still active, but nothing to regenerate
        self.assertEqual(job.invoicing_stage, "active")
        with self.assertRaisesRegex(UserError, "no draft invoice to regenerate"):
            job.action_regenerate_drafts()
        # a correction is what its user entered: not regenerated
        self._invoice(job, "correction", amount=-100.0, reason="Goodwill")
        self.assertFalse(job.has_draft_to_regenerate)

    # ------------------------------------------------------------------ wizard
    def test_wizard_shows_the_deposits_deducted(self):
        """2,220.00 of lines, less 666.00 (30 %) of deposit: 1,554.00."""
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 20, 80.0),
                ("materials", self.product_pipe, 40, 15.5),
            ],
        )
        self._invoice(job, "deposit", percent=30.0, post=True)
        wizard = self.env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": "progress_itemized"}
        )
        self.assertFalse(wizard.preview_error)
        self.assertAlmostEqual(wizard.amount_lines, 2220.0, places=2)
        self.assertAlmostEqual(wizard.deposit_deduction_preview, 666.0, places=2)
        self.assertAlmostEqual(wizard.amount_other_preview, 0.0, places=2)
        self.assertAlmostEqual(wizard.amount_preview, 1554.0, places=2)
        move = wizard._create_invoice()
        self.assertAlmostEqual(move.amount_untaxed, 1554.0, places=2)
        self.assertAlmostEqual(move.job_deposit_deducted, 666.0, places=2)

    def test_wizard_final_shows_other_lines(self):
        """The final invoice of the fixed price job: 3,500.00 of invoiceables
        listed, 6,500.00 of fixed price adjustment, less the 3,000.00 deposit."""
        job = self.job
        self._invoice(job, "deposit", percent=30.0, post=True)
        job.action_close()
        wizard = self.env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": "final"}
        )
        self.assertAlmostEqual(wizard.amount_lines, 3500.0, places=2)
        self.assertAlmostEqual(wizard.amount_other_preview, 6500.0, places=2)
        self.assertAlmostEqual(wizard.deposit_deduction_preview, 3000.0, places=2)
        self.assertAlmostEqual(wizard.amount_preview, 7000.0, places=2)
        # a summary policy: its own line is the total
        wizard.policy = "deposit"
        wizard.amount = 500.0
        self.assertFalse(wizard.preview_error)
        self.assertAlmostEqual(wizard.amount_lines, 500.0, places=2)
        self.assertAlmostEqual(wizard.deposit_deduction_preview, 0.0, places=2)
        self.assertAlmostEqual(wizard.amount_preview, 500.0, places=2)

    # ------------------------------------------------------------------ texts
    def test_money_written_with_its_currency(self):
        job = self.job
        self.assertEqual(job.currency_id.name, "USD")
        self.assertEqual(job._format_amount(4200.0), f"{USD}4,200.00")
        deposit = self._invoice(job, "deposit", percent=30.0, post=True)
        self.assertEqual(
            deposit.invoice_line_ids.name,
            f"Deposit for job {job.name}: 30% of {USD}10,000.00",
        )
        final = self._bill_until_final_draft_after_deposit()
        body = job.message_ids[0].body
        self.assertIn(
            "created: $&nbsp;4,200.00 untaxed.",
            body,
            "the chatter writes the amount as Odoo writes money",
        )
        self.assertIn(f'data-oe-model="account.move" data-oe-id="{final.id}"', body)
        self.assertIn(f">Draft #{final.id}</a> (Complete (Final))", body)
        adjustment = final.invoice_line_ids.filtered(
            lambda line: line.job_line_kind == "adjustment"
        )
        self.assertEqual(
            adjustment.name, f"Fixed price adjustment (job price {USD}10,000.00)"
        )

    def _bill_until_final_draft_after_deposit(self):
        self._invoice(self.job, "progress_summary", percent=40.0, post=True)
        self.job.action_close()
        return self._invoice(self.job, "final")

    def test_refusals_write_money_with_its_currency(self):
        self._invoice(self.job, "deposit", percent=30.0, post=True)
        with self.assertRefused(
            rf"A deposit of \$\xa08,000\.00 would exceed what remains to invoice "
            rf"on job {self.job.name} \(\$\xa07,000\.00 after"
        ):
            self._invoice(self.job, "deposit", amount=8000.0)

    # ------------------------------------------------------------------ export
    def test_export_refused_while_the_integration_is_off(self):
        self.assertFalse(self.company.job_accounting_integration)
        wizard = self.env["billing.job.export.wizard"].create({})
        self.assertEqual(wizard.company_id, self.company)
        self.assertFalse(wizard.job_accounting_integration)
        with self.assertRaisesRegex(
            UserError,
            r"accounting integration is off for .*Invoicing > Configuration > "
            r"Settings, Job Billing, Accounting Integration",
        ):
            wizard.action_export()
        self.company.job_accounting_integration = True
        with self.assertRaisesRegex(UserError, "no approved job invoice"):
            wizard.action_export()

    def test_export_menu_follows_the_integration(self):
        """Job Billing Managers see the export while a company has the
        accounting integration on; a Job Billing User never does."""
        manager = new_test_user(
            self.env,
            login="jb_screens_manager",
            groups="job_billing.group_job_billing_manager",
        )
        user = new_test_user(
            self.env,
            login="jb_screens_user",
            groups="job_billing.group_job_billing_user",
        )
        group = "job_billing.group_job_accounting_integration"
        menu = self.env.ref("job_billing.menu_billing_job_export_wizard")
        self.env["res.company"].search([]).job_accounting_integration = False
        self.assertFalse(manager.has_group(group))
        self.assertNotIn(menu, self.env["ir.ui.menu"].with_user(manager).search([]))
        self.company.job_accounting_integration = True
        self.assertTrue(manager.has_group(group))
        self.assertFalse(user.has_group(group))
        self.assertIn(menu, self.env["ir.ui.menu"].with_user(manager).search([]))
        self.assertNotIn(menu, self.env["ir.ui.menu"].with_user(user).search([]))
        self.company.job_accounting_integration = False
        manager.invalidate_recordset()
        self.assertFalse(manager.has_group(group))

    # ------------------------------------------------------------------ views
    def test_job_actions_views_and_empty_states(self):
        """Cards after the list (phones), pivot and graph on every job action;
        the invoicing stage work lists say what they list when empty and
        offer no New."""
        Job = self.env["billing.job"]
        for xmlid in (
            "action_billing_job",
            "action_billing_job_invoicing_new",
            "action_billing_job_invoicing_active",
            "action_billing_job_invoicing_completed",
        ):
            action = self.env.ref(f"job_billing.{xmlid}")
            self.assertEqual(action.view_mode, "list,kanban,form,pivot,graph", xmlid)
            self.assertIn("o_view_nocontent", action.help, xmlid)
            views = Job.get_views(
                [(view.view_id.id, view.view_mode) for view in action.view_ids]
                or [(False, mode) for mode in action.view_mode.split(",")]
            )["views"]
            self.assertEqual(
                set(views), {"list", "kanban", "form", "pivot", "graph"}, xmlid
            )
            creates = {
                view_type: 'create="0"' not in views[view_type]["arch"]
                and 'create="false"' not in views[view_type]["arch"].lower()
                for view_type in ("list", "kanban", "form")
            }
            worklist = xmlid.endswith(("_active", "_completed"))
            self.assertEqual(
                creates, dict.fromkeys(creates, not worklist), f"{xmlid}: New"
            )
        completed = self.env.ref("job_billing.action_billing_job_invoicing_completed")
        self.assertIn("No job billed in full yet", completed.help)
        kanban = Job.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn("o_kanban_mobile", kanban)
        for field in ("partner_id", "name", "suggested_price", "state"):
            self.assertIn(f'name="{field}"', kanban)
