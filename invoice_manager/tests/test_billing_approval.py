from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon

APPROVAL_FIELDS = [
    "approved_for_invoicing",
    "approved_for_invoicing_uid",
    "approved_for_invoicing_date",
]


@tagged("post_install", "-at_install")
class TestBillingApproval(InvoiceManagerCommon):
    """Approving sales for invoicing is a right of its own, held on the server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company(name="Approval Co B")["company"]
        both_companies = [Command.set((cls.company_a | cls.company_b).ids)]
        cls.billing_user = new_test_user(
            cls.env,
            login="approval_biller",
            # who also sells: editing and copying sales is theirs, approving not
            groups="invoice_manager.group_billing_user,"
            "sales_team.group_sale_salesman_all_leads",
            company_id=cls.company_a.id,
            company_ids=both_companies,
        )
        approver_groups = (
            "sales_team.group_sale_salesman_all_leads,"
            "invoice_manager.group_billing_approver"
        )
        cls.approver = new_test_user(
            cls.env,
            login="approval_approver",
            groups=approver_groups,
            company_id=cls.company_a.id,
            company_ids=both_companies,
        )
        cls.colleague = new_test_user(
            cls.env,
            login="approval_colleague",
            groups=approver_groups,
            company_id=cls.company_a.id,
            company_ids=both_companies,
        )
        cls.admin_approver = cls.env.user  # Billing Manager (tests/common.py)
        with freeze_time("2026-11-02 08:00:00"):
            cls.sale = cls._create_sale(
                cls.customer_alpha,
                date(2026, 10, 3),
                approved=False,
                user_id=cls.colleague.id,
            )
            cls.sale_approved = cls._create_sale(
                cls.customer_beta, date(2026, 10, 5), user_id=cls.colleague.id
            )

    def _approval(self, order):
        return tuple(order[fname] for fname in APPROVAL_FIELDS)

    def test_groups(self):
        approver_group = self.env.ref("invoice_manager.group_billing_approver")
        manager_group = self.env.ref("invoice_manager.group_billing_manager")
        user_group = self.env.ref("invoice_manager.group_billing_user")
        self.assertIn(approver_group, manager_group.trans_implied_ids)
        self.assertNotIn(approver_group, user_group.trans_implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), approver_group.users)
        self.assertFalse(
            self.billing_user.has_group("invoice_manager.group_billing_approver")
        )
        self.assertTrue(
            self.admin_approver.has_group("invoice_manager.group_billing_approver")
        )

    def test_buttons_and_list_action_for_approvers_only(self):
        action = self.env.ref("invoice_manager.sale_order_action_approve_for_invoicing")
        for user, shown in ((self.billing_user, False), (self.approver, True)):
            orders = self.env["sale.order"].with_user(user)
            arch = orders.get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertEqual('name="action_approve_for_invoicing"' in arch, shown)
            self.assertEqual('name="action_unapprove_for_invoicing"' in arch, shown)
            bindings = (
                self.env["ir.actions.actions"]
                .with_user(user)
                .get_bindings("sale.order")
            )
            self.assertEqual(
                action.id in [b["id"] for b in bindings.get("action", [])], shown
            )

    def test_sudo_code_may_approve(self):
        """Server code running in sudo is not held by the right (as for any
        access check); it records the user it runs for."""
        with freeze_time("2026-11-03 09:30:00"):
            self.sale.with_user(self.billing_user).sudo().action_approve_for_invoicing()
        self.assertEqual(
            self._approval(self.sale),
            (True, self.billing_user, datetime(2026, 11, 3, 9, 30)),
        )

    def test_billing_user_cannot_approve_nor_withdraw(self):
        sale = self.sale.with_user(self.billing_user)
        approved = self.sale_approved.with_user(self.billing_user)
        before = self._approval(self.sale_approved)
        self.assertEqual(
            before[1:],
            (self.admin_approver, datetime(2026, 11, 2, 8, 0)),
        )
        with self.assertRaisesRegex(AccessError, "Approve Sales for Invoicing"):
            sale.action_approve_for_invoicing()
        with self.assertRaises(AccessError):
            sale.write({"approved_for_invoicing": True})
        with self.assertRaises(AccessError):
            approved.action_unapprove_for_invoicing()
        with self.assertRaises(AccessError):
            approved.write({"approved_for_invoicing": False})
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.billing_user).create(
                {
                    "partner_id": self.customer_gamma.id,
                    "approved_for_invoicing": True,
                }
            )
        with self.assertRaises(AccessError):
            self.env.ref(
                "invoice_manager.sale_order_action_approve_for_invoicing"
            ).with_user(self.billing_user).with_context(
                active_model="sale.order", active_ids=sale.ids
            ).run()
        self.assertEqual(
            self._approval(self.sale), (False, self.env["res.users"], False)
        )
        self.assertEqual(self._approval(self.sale_approved), before)
        self.assertFalse(
            self.env["sale.order"].search([("partner_id", "=", self.customer_gamma.id)])
        )
        # The rest of the sale stays theirs to edit, and so does copying it.
        sale.write({"client_order_ref": "PO-77"})
        self.assertEqual(self.sale.client_order_ref, "PO-77")
        copy = approved.copy()
        self.assertEqual(self._approval(copy), (False, self.env["res.users"], False))

    def test_approver_approves_and_withdraws(self):
        sale = self.sale.with_user(self.approver)
        with freeze_time("2026-11-03 09:30:00"):
            sale.action_approve_for_invoicing()
        self.assertEqual(
            self._approval(self.sale),
            (True, self.approver, datetime(2026, 11, 3, 9, 30)),
        )
        sale.action_unapprove_for_invoicing()
        self.assertEqual(
            self._approval(self.sale), (False, self.env["res.users"], False)
        )

        # A direct write of the field, as an RPC client does, records the same.
        with freeze_time("2026-11-04 14:00:00"):
            sale.write({"approved_for_invoicing": True})
        self.assertEqual(
            self._approval(self.sale),
            (True, self.approver, datetime(2026, 11, 4, 14, 0)),
        )
        sale.write({"approved_for_invoicing": False})
        self.assertEqual(
            self._approval(self.sale), (False, self.env["res.users"], False)
        )

        # Approving an approved sale again keeps who approved it and when.
        before = self._approval(self.sale_approved)
        self.sale_approved.with_user(self.approver).action_approve_for_invoicing()
        self.sale_approved.with_user(self.approver).write(
            {"approved_for_invoicing": True}
        )
        self.assertEqual(self._approval(self.sale_approved), before)

        # Several sales at once (the list action).
        with freeze_time("2026-11-05 10:00:00"):
            self.env.ref(
                "invoice_manager.sale_order_action_approve_for_invoicing"
            ).with_user(self.approver).with_context(
                active_model="sale.order",
                active_ids=(self.sale | self.sale_approved).ids,
            ).run()
        self.assertEqual(
            self._approval(self.sale),
            (True, self.approver, datetime(2026, 11, 5, 10, 0)),
        )
        self.assertEqual(self._approval(self.sale_approved), before)

    def _flush_tracking(self):
        """Run what a commit runs: the tracking messages (mail's flush_tracking)."""
        self.env.flush_all()
        self.env.cr.flush()

    def test_approval_goes_to_the_chatter(self):
        def approval_messages():
            return self.sale.message_ids.filtered(
                lambda m: (
                    "approved_for_invoicing"
                    in m.tracking_value_ids.field_id.mapped("name")
                )
            )

        # The sale was created in an earlier transaction.
        self._flush_tracking()
        sale = self.sale.with_user(self.approver).with_context(
            tracking_disable=False, mail_notrack=False
        )
        sale.action_approve_for_invoicing()
        self._flush_tracking()
        message = approval_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.approver.partner_id)
        tracking = message.tracking_value_ids
        self.assertEqual(
            (tracking.old_value_integer, tracking.new_value_integer), (0, 1)
        )

        sale.action_unapprove_for_invoicing()
        self._flush_tracking()
        self.assertEqual(len(approval_messages()), 2)
        self.assertFalse(self.sale.approved_for_invoicing_uid)
        self.assertFalse(self.sale.approved_for_invoicing_date)

    def test_creating_an_approved_sale_is_an_approval(self):
        values = {
            "partner_id": self.customer_gamma.id,
            "order_line": [Command.create({"product_id": self.product_service.id})],
            "approved_for_invoicing": True,
        }
        # A new sale is a quotation: it cannot be created approved.
        with self.assertRaisesRegex(UserError, "Only confirmed sales"):
            self.env["sale.order"].with_user(self.approver).create(values)
        with freeze_time("2026-11-06 11:00:00"):
            order = (
                self.env["sale.order"]
                .with_user(self.approver)
                .create({**values, "state": "sale"})
            )
        self.assertEqual(
            self._approval(order), (True, self.approver, datetime(2026, 11, 6, 11, 0))
        )
        # Created not approved: no right needed.
        order = (
            self.env["sale.order"]
            .with_user(self.billing_user)
            .create({**values, "approved_for_invoicing": False})
        )
        self.assertFalse(order.approved_for_invoicing)

    def test_nobody_forges_the_approver_or_the_date(self):
        forged = {
            "approved_for_invoicing_uid": self.colleague.id,
            "approved_for_invoicing_date": "2026-10-01 00:00:00",
        }
        before = self._approval(self.sale_approved)
        for user in (self.billing_user, self.approver, self.admin_approver):
            for fname, value in forged.items():
                for order in (self.sale, self.sale_approved):
                    with self.assertRaises(AccessError):
                        order.with_user(user).write({fname: value})
                    with self.assertRaises(AccessError):
                        order.with_user(user).write(
                            {"approved_for_invoicing": True, fname: value}
                        )
                with self.assertRaises(AccessError):
                    self.sale_approved.with_user(user).write({fname: False})
                with self.assertRaises(AccessError):
                    self.env["sale.order"].with_user(user).create(
                        {
                            "partner_id": self.customer_gamma.id,
                            "approved_for_invoicing": True,
                            fname: value,
                        }
                    )
        self.assertEqual(
            self._approval(self.sale), (False, self.env["res.users"], False)
        )
        self.assertEqual(self._approval(self.sale_approved), before)

    def test_copy_does_not_carry_the_approval(self):
        copy = self.sale_approved.with_user(self.approver).copy()
        self.assertEqual(self._approval(copy), (False, self.env["res.users"], False))
        self.assertTrue(self.sale_approved.approved_for_invoicing)

    def test_unconfirmed_sales_are_refused(self):
        quotation = self._create_sale(
            self.customer_gamma, date(2026, 10, 7), approved=False, confirm=False
        )
        cancelled = self._create_sale(
            self.customer_gamma, date(2026, 10, 8), approved=False
        )
        cancelled._action_cancel()
        for order in (quotation, cancelled):
            with self.assertRaisesRegex(UserError, order.name):
                order.with_user(self.approver).action_approve_for_invoicing()
            with self.assertRaisesRegex(UserError, "Only confirmed sales"):
                order.with_user(self.approver).write({"approved_for_invoicing": True})
            self.assertFalse(order.approved_for_invoicing)

    def test_company_may_forbid_approving_ones_own_sales(self):
        settings = self.env["res.config.settings"].create(
            {"billing_forbid_self_approval": True}
        )
        settings.execute()
        self.assertTrue(self.company_a.billing_forbid_self_approval)
        self.assertFalse(self.company_b.billing_forbid_self_approval)

        own = self._create_sale(
            self.customer_gamma,
            date(2026, 10, 9),
            approved=False,
            user_id=self.approver.id,
        )
        with self.assertRaisesRegex(UserError, own.name):
            own.with_user(self.approver).action_approve_for_invoicing()
        with self.assertRaisesRegex(UserError, own.name):
            own.with_user(self.approver).write({"approved_for_invoicing": True})
        # With a colleague's sale in the same batch: nothing is approved.
        with self.assertRaisesRegex(UserError, own.name):
            (own | self.sale).with_user(self.approver).action_approve_for_invoicing()
        self.assertFalse(own.approved_for_invoicing)
        self.assertFalse(self.sale.approved_for_invoicing)
        # Withdrawing stays possible.
        own_approved = self._create_sale(
            self.customer_gamma, date(2026, 10, 9), user_id=self.approver.id
        )
        own_approved.with_user(self.approver).action_unapprove_for_invoicing()
        self.assertFalse(own_approved.approved_for_invoicing)

        # A colleague's sale: yes; and the colleague approves the approver's.
        self.sale.with_user(self.approver).action_approve_for_invoicing()
        self.assertEqual(self.sale.approved_for_invoicing_uid, self.approver)
        own.with_user(self.colleague).action_approve_for_invoicing()
        self.assertEqual(own.approved_for_invoicing_uid, self.colleague)

        # Per company: company B does not forbid it.
        product_b = self.product_service.with_company(self.company_b)
        own_b = self._create_sale(
            self.customer_gamma,
            date(2026, 10, 9),
            [(product_b, 1.0, 100.0)],
            approved=False,
            company_id=self.company_b.id,
            user_id=self.approver.id,
        )
        own_b.with_user(self.approver).action_approve_for_invoicing()
        self.assertEqual(own_b.approved_for_invoicing_uid, self.approver)

        # Setting off: the approver approves their own sales.
        self.company_a.billing_forbid_self_approval = False
        own.with_user(self.colleague).action_unapprove_for_invoicing()
        own.with_user(self.approver).action_approve_for_invoicing()
        self.assertEqual(own.approved_for_invoicing_uid, self.approver)
