from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingApprovalRule(InvoiceManagerCommon):
    """Billing sales that are not approved is the approvers' call, on the
    server: a run or a scenario without the approval rule is theirs to make,
    and a company forbidding self-approval keeps one's own sales out."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env,
            login="rule_biller",
            groups="invoice_manager.group_billing_user",
        )
        cls.approver = new_test_user(
            cls.env,
            login="rule_approver",
            groups="invoice_manager.group_billing_user,"
            "invoice_manager.group_billing_approver",
        )
        # 5 x 100.00 + 15 % = 575.00, the billing user's own sale, not approved.
        cls.users_own = cls._create_sale(
            cls.customer_alpha,
            date(2026, 10, 3),
            [(cls.product_service, 5.0, 100.0)],
            approved=False,
            user_id=cls.billing_user.id,
        )
        cls.approvers_own = cls._create_sale(
            cls.customer_beta,
            date(2026, 10, 4),
            approved=False,
            user_id=cls.approver.id,
        )

    def _run_as(self, user, **values):
        run = (
            self.env["billing.run"]
            .with_user(user)
            .create({"scenario_id": self.scenario.id})
        )
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        if values:
            run.write(values)
        return run

    def test_billing_user_cannot_relax_the_approval_rule(self):
        run = self._run_as(self.billing_user)
        with self.assertRaisesRegex(AccessError, "approve sales for invoicing"):
            run.write({"require_approval": False})
        with self.assertRaisesRegex(AccessError, "approve sales for invoicing"):
            self.env["billing.run"].with_user(self.billing_user).create(
                {"scenario_id": self.scenario.id, "require_approval": False}
            )
        with self.assertRaises(AccessError):
            self.scenario.with_user(self.billing_user).write(
                {"require_approval": False}
            )
        self.assertTrue(run.require_approval)
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertFalse(self.users_own.invoice_ids)
        self.assertFalse(run.line_ids)

    def test_approver_relaxes_the_rule_and_bills_unapproved_sales(self):
        run = self._run_as(self.approver, require_approval=False)
        run.action_fetch()
        self.assertEqual(
            run.line_ids.sale_order_ids, self.users_own | self.approvers_own
        )
        run.action_process(force_synchronous=True)
        self.assertEqual(self.users_own.invoice_ids.amount_total, 575.00)

    def test_without_approval_rule_own_sales_still_need_another_approver(self):
        self.env.company.billing_forbid_self_approval = True
        run = self._run_as(self.approver, require_approval=False)
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.users_own)
        # Approved by a colleague meanwhile: fetched again, it is billed.
        self.approvers_own.action_approve_for_invoicing()
        run.action_fetch()
        self.assertEqual(
            run.line_ids.sale_order_ids, self.users_own | self.approvers_own
        )
        run.action_process(force_synchronous=True)
        self.assertEqual(self.approvers_own.invoice_ids.amount_total, 115.00)

    def test_scenario_without_approval_is_the_managers(self):
        scenario = self.scenario.copy({"name": "No approval"})
        scenario.require_approval = False
        run = (
            self.env["billing.run"]
            .with_user(self.billing_user)
            .create({"scenario_id": scenario.id})
        )
        # A billing user may run a manager's scenario without the rule as it is.
        self.assertFalse(run.require_approval)
