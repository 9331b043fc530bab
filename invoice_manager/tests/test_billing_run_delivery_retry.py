from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunDeliveryRetry(InvoiceManagerCommon):
    """Emails Odoo's mail queue could not send are sent again, never made again:
    the same ``mail.mail`` with the same PDF goes back to the queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.sale_gamma = cls._create_sale(cls.customer_gamma, date(2026, 10, 5))

    def _emailed_run(self):
        run = self._new_run(billing_action="email")
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        return run

    def _mail_of(self, line):
        return self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "in", line.invoice_ids.ids)]
        )

    def _refused(self, mail):
        # What Odoo's mail queue records when the mail server cannot be reached
        # (mail.mail.send(): the connection failed, no failure type on the mail).
        mail.write({"state": "exception", "failure_reason": "111 Connection refused"})

    def test_scheduler_sends_the_same_email_again_once_the_server_is_back(self):
        run = self._emailed_run()
        beta = self._line_of(run, self.sale_beta)
        gamma = self._line_of(run, self.sale_gamma)
        mail, other = self._mail_of(beta), self._mail_of(gamma)
        self._refused(mail)
        # An address the mail server rejects is not retried by the scheduler.
        other.write(
            {
                "state": "exception",
                "failure_type": "mail_email_invalid",
                "failure_reason": "Invalid address",
            }
        )
        run.invalidate_recordset()
        self.assertEqual(run.delivery_failed_count, 2)
        attachments = mail.attachment_ids
        invoices = run.invoice_ids
        self.env["billing.run"]._cron_retry_failed_deliveries()
        run.line_ids.invalidate_recordset(["delivery_state"])
        self.assertEqual(mail.state, "outgoing", "back in Odoo's mail queue")
        self.assertEqual(mail.attachment_ids, attachments, "the same PDF")
        self.assertEqual(beta.delivery_state, "queued")
        self.assertEqual(beta.delivery_retry_count, 1)
        self.assertEqual(other.state, "exception")
        self.assertEqual(gamma.delivery_state, "failed")
        self.assertEqual(gamma.delivery_retry_count, 0)
        run.invalidate_recordset(["delivery_failed_count"])
        self.assertEqual(run.delivery_failed_count, 1, "the rejected address only")
        self.assertEqual(run.invoice_ids, invoices, "no invoice made again")
        self.assertEqual(len(self._mail_of(beta)), 1, "no email made again")
        self.assertIn("handed to the mail queue again", run.message_ids[0].body)
        # Refused again and again: the scheduler gives up after the limit.
        self.env["ir.config_parameter"].set_param("invoice_manager.delivery_retries", 2)
        self._refused(mail)
        self.env["billing.run"]._cron_retry_failed_deliveries()
        self.assertEqual(beta.delivery_retry_count, 2)
        self._refused(mail)
        self.env["billing.run"]._cron_retry_failed_deliveries()
        self.assertEqual(mail.state, "exception")
        self.assertEqual(beta.delivery_retry_count, 2)
        # Runs older than a week are left alone.
        self.env["ir.config_parameter"].set_param("invoice_manager.delivery_retries", 5)
        with freeze_time("2030-01-01"):
            self.env["billing.run"]._cron_retry_failed_deliveries()
        self.assertEqual(mail.state, "exception")

    def test_failed_count_finds_each_kind_of_failure(self):
        run = self._emailed_run()
        beta = self._line_of(run, self.sale_beta)
        gamma = self._line_of(run, self.sale_gamma)
        self.assertTrue(all(run.invoice_ids.mapped("is_move_sent")))
        self.assertEqual(run.delivery_failed_count, 0)
        # Every email queued as it should be: no line is even read to count.
        self.assertFalse(
            run._get_emailed_lines(run._get_maybe_failed_invoices_domain())
        )
        # The mail server refused beta's email.
        self._refused(self._mail_of(beta))
        run.invalidate_recordset()
        self.assertEqual(run.delivery_failed_count, 1)
        # Gamma's invoice, sent before, was sent again by Odoo's sending cron,
        # which failed and left its error in the sending data.
        gamma.invoice_ids.sending_data = {"error": True}
        gamma.invoice_ids.message_post(body="Unable to find Wkhtmltopdf")
        run.invalidate_recordset()
        gamma.invalidate_recordset()
        self.assertEqual(gamma.delivery_state, "failed")
        self.assertEqual(run.delivery_failed_count, 2)
        # An email never made and not waiting for Odoo's sending cron.
        gamma.invoice_ids.write({"sending_data": False, "is_move_sent": False})
        self._mail_of(gamma).unlink()
        run.invalidate_recordset()
        gamma.invalidate_recordset()
        self.assertEqual(gamma.delivery_state, "failed")
        self.assertEqual(run.delivery_failed_count, 2)
        # The same, as a Billing User sees it on the form.
        user = new_test_user(
            self.env, login="biller_count", groups="invoice_manager.group_billing_user"
        )
        self.assertEqual(run.with_user(user).delivery_failed_count, 2)

    def test_retry_button_sends_every_failed_email_of_the_run(self):
        run = self._emailed_run()
        beta = self._line_of(run, self.sale_beta)
        mail = self._mail_of(beta)
        mail.write(
            {
                "state": "exception",
                "failure_type": "mail_email_invalid",
                "failure_reason": "Invalid address",
            }
        )
        # The accountant corrected the address: Retry Failed Emails.
        user = new_test_user(
            self.env, login="biller_retry", groups="invoice_manager.group_billing_user"
        )
        run.with_user(user).action_retry_delivery()
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(beta.delivery_retry_count, 1)
        with self.assertRaisesRegex(UserError, "No email of this run is in failure"):
            run.with_user(user).action_retry_delivery()
        # Only through the run's method: the count is not the user's to write.
        with self.assertRaises(AccessError):
            beta.with_user(user).delivery_retry_count = 0

    def test_period_ending_before_it_starts_is_refused_at_once(self):
        with self.assertRaisesRegex(ValidationError, "ends .* before it starts"):
            self._new_run(date_from=date(2026, 10, 31), date_to=date(2026, 10, 1))

    def test_process_refuses_a_filter_that_no_longer_parses_leaving_the_run(self):
        run = self._new_run()
        run.action_fetch()
        # A field of an uninstalled module (written past the scenario's check).
        self.env.cr.execute(
            "UPDATE billing_run SET sale_domain = %s WHERE id = %s",
            ["[('x_gone_field', '=', 1)]", run.id],
        )
        run.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "extra filter is not a valid domain"):
            run.action_process(force_synchronous=True)
        self.assertEqual(run.state, "ready")
        self.assertFalse(run.invoice_ids)
