from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingScenario(InvoiceManagerCommon):
    @freeze_time("2026-11-22")
    def test_new_run_proposes_previous_month_when_never_invoiced(self):
        run = self.env["billing.run"].create({"scenario_id": self.scenario.id})
        self.assertEqual(
            (run.date_from, run.date_to), (date(2026, 10, 1), date(2026, 10, 31))
        )
        self.assertEqual(run.billing_action, "create_only")
        self.assertEqual(run.grouping, "order")
        self.assertTrue(run.require_approval)

    @freeze_time("2026-11-22")
    def test_new_run_proposes_the_period_after_the_last_processed_one(self):
        self._create_sale(self.customer_alpha, date(2026, 9, 10))
        run = self._new_run(date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertEqual(self.scenario.last_date_to, date(2026, 9, 30))
        next_run = self.env["billing.run"].create({"scenario_id": self.scenario.id})
        self.assertEqual(
            (next_run.date_from, next_run.date_to),
            (date(2026, 10, 1), date(2026, 10, 31)),
        )

    @freeze_time("2026-11-19")  # a Thursday
    def test_weekly_scenario_proposes_previous_week(self):
        self.scenario.period_type = "week"
        run = self.env["billing.run"].create({"scenario_id": self.scenario.id})
        self.assertEqual(
            (run.date_from, run.date_to), (date(2026, 11, 9), date(2026, 11, 15))
        )

    def test_wizard_form_prefills_rules_from_scenario(self):
        self.scenario.write(
            {
                "partner_ids": [(6, 0, self.customer_beta.ids)],
                "billing_action": "print",
                "grouping": "customer",
            }
        )
        # Step 1: the wizard picks the scenario; Next makes the run (step 2).
        with Form(self.env["billing.run.wizard"]) as wizard_form:
            wizard_form.scenario_id = self.scenario
        action = wizard_form.save().action_next()
        run = self.env["billing.run"].browse(action["res_id"])
        self.assertEqual(run.state, "ready")
        self.assertEqual(run.scenario_id, self.scenario)
        self.assertEqual(run.billing_action, "print")
        self.assertEqual(run.grouping, "customer")
        self.assertEqual(run.partner_ids, self.customer_beta)
        # Step 2: the rule values stay editable in the run's form.
        with Form(run) as run_form:
            run_form.billing_action = "email"
        self.assertEqual(run.billing_action, "email")

    def test_run_created_by_a_script_fetches_without_the_wizard(self):
        """An RPC client: create() with a scenario, then action_fetch()."""
        self._create_sale(self.customer_alpha, date(2026, 10, 3))
        run = self.env["billing.run"].create(
            {
                "scenario_id": self.scenario.id,
                "date_from": date(2026, 10, 1),
                "date_to": date(2026, 10, 31),
            }
        )
        run.action_fetch()
        self.assertEqual(run.line_ids.partner_id, self.customer_alpha)

    def test_run_created_with_some_rule_values_takes_the_others_from_its_scenario(
        self,
    ):
        tag = self.env["crm.tag"].create({"name": "Key accounts"})
        run = self.env["billing.run"].create(
            {"scenario_id": self.scenario.id, "tag_ids": [Command.set(tag.ids)]}
        )
        self.assertEqual(run.tag_ids, tag)
        self.assertEqual(run.billing_action, "create_only")
        self.assertEqual(run.invoice_date_mode, "period_end")
        self.assertTrue(run.require_approval)
        self.assertEqual((run.date_from, run.date_to), self.scenario._get_next_period())

    def test_invalid_extra_filter_is_refused(self):
        with self.assertRaises(ValidationError):
            self.scenario.sale_domain = "[('no_such_field', '=', 1)]"

    def test_fixed_invoice_date_is_required(self):
        with self.assertRaises(ValidationError):
            self.scenario.invoice_date_mode = "fixed"
