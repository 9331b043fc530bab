import ast
from pathlib import Path

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import sql

from odoo.addons.job_billing.hooks import pre_init_hook
from odoo.addons.job_billing.models.job_invoice_policy import JobInvoiceChoices

from .common import JobBillingCommon

ADDON = Path(__file__).resolve().parent.parent


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestJobInvoicer(JobBillingCommon):
    """The invoicing engine is a service (``billing.job.invoicer``): a job and
    plain values in, an invoice out, no wizard needed; its policies are those
    of the database."""

    def test_invoice_without_the_wizard(self):
        job = self._create_repair_job()
        installer = self._item(job, self.product_installer)
        invoicer = self.env["billing.job.invoicer"]
        wizards = self.env["billing.job.invoice"].search_count([])
        deposit = invoicer._create_invoice(
            job, JobInvoiceChoices("deposit", job.partner_id, amount=105.0)
        )
        self.assertMoney(deposit, 105.0, 15.75, 120.75)
        choices = JobInvoiceChoices(
            "progress_itemized",
            job.partner_id,
            lines=((installer, 5.0, installer.price_unit),),
        )
        amount, error = invoicer._get_amount_preview(job, choices)
        self.assertEqual((amount, error), (360.0, False))
        progress = invoicer._create_invoice(job, choices)
        # 400.00, less 105.00 x 400.00 / 1,050.00 of deposit
        self.assertMoney(progress, 360.0, 54.0, 414.0)
        self.assertEqual(installer.qty_invoiced, 5.0)
        self.assertEqual(self.env["billing.job.invoice"].search_count([]), wizards)
        over = JobInvoiceChoices(
            "progress_itemized",
            job.partner_id,
            lines=((installer, 6.0, installer.price_unit),),
        )
        self.assertIn(
            "cannot be billed, 5.0 remain", invoicer._get_amount_preview(job, over)[1]
        )

    def test_policies_are_the_selection(self):
        """Every policy of the job invoices' field has its properties and its
        method; the table is built at each call (nothing shared between the
        databases of a server)."""
        invoicer = self.env["billing.job.invoicer"]
        policies = invoicer._get_job_invoice_policies()
        field = self.env["account.move"]._fields["job_invoice_policy"]
        keys = [key for key, _label in field.selection]
        self.assertEqual(sorted(policies), sorted(keys))
        wizard_keys = [
            key
            for key, _label in self.env["billing.job.invoice"].fields_get(["policy"])[
                "policy"
            ]["selection"]
        ]
        self.assertEqual(wizard_keys, keys)
        for policy in policies.values():
            self.assertTrue(hasattr(invoicer, f"_prepare_{policy.builder}_lines"))
        policies.pop("deposit")
        self.assertIn("deposit", invoicer._get_job_invoice_policies())

    def test_draft_of_an_unknown_policy(self):
        """A draft whose policy's addon was uninstalled (its policy set to
        null) cannot be regenerated, and says so."""
        job = self._create_repair_job()
        draft = self._invoice(job, "deposit", amount=100.0)
        draft.job_invoice_policy = False
        with self.assertRefused("cannot be regenerated"):
            job.action_regenerate_drafts()
        self.assertMoney(draft, 100.0, 15.0, 115.0)

    def test_install_hook_finds_the_column(self):
        """The hook that makes account_move_line.job_id before the install
        (so that no journal item is rewritten) leaves an existing one as it
        is."""
        pre_init_hook(self.env)
        self.assertTrue(sql.column_exists(self.env.cr, "account_move_line", "job_id"))
        self.assertTrue(
            sql.index_exists(self.env.cr, "account_move_line__job_id_index")
        )

    def test_the_addon_never_flushes_everything(self):
        """The job's figures are constraints on its stored amounts: nothing
        here flushes or invalidates the whole environment (least of all in
        Odoo's own posting)."""
        calls = []
        for path in sorted(ADDON.rglob("*.py")):
            if "tests" in path.relative_to(ADDON).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("flush_all", "invalidate_all")
                ):
                    calls.append(f"{path.name}:{node.lineno}")
        self.assertEqual(calls, [])
