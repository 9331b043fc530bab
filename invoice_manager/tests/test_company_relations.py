from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from .common import InvoiceManagerCommon

OURS = (
    "invoice_manager",
    "invoice_manager_stock",
    "invoice_manager_queue",
    "job_billing",
)

# Relations between records of companies that may, on purpose, differ.
NOT_CHECKED = {
    # users work in several companies: the user who approved or ran
    ("sale.order", "approved_for_invoicing_uid"),
}


@tagged("post_install", "-at_install")
class TestCompanyRelations(TransactionCase):
    """Every relation our addons add between two records that each belong
    to a company is checked by Odoo (``check_company`` on a model with
    ``_check_company_auto``): no record links a record of another company,
    whoever writes it and however (RPC included: the test below writes
    through the ORM)."""

    def _links_two_companies(self, field):
        """A stored relation of ours to a model whose records have a company."""
        if field._module not in OURS or field.type not in ("many2one", "many2many"):
            return False
        if field.related or (field.compute and not field.store):
            return False
        comodel = self.env[field.comodel_name]
        if "company_id" not in comodel._fields:
            return False
        return field.comodel_name not in ("res.company", "res.users") and (
            (field.model_name, field.name) not in NOT_CHECKED
        )

    def _is_checked(self, model):
        """Odoo checks the relations of models with _check_company_auto; the
        head office (res.partner, company-dependent) by its own constraint."""
        return model._check_company_auto or model._name == "res.partner"

    def test_every_relation_of_ours_is_company_checked(self):
        unchecked = [
            f"{field.model_name}.{field.name} -> {field.comodel_name}"
            for model in self.env.registry.values()
            # (query models such as reports are read-only: nothing to check)
            if "company_id" in model._fields and not model._abstract and model._auto
            for field in model._fields.values()
            if self._links_two_companies(field)
            and not (field.check_company and self._is_checked(model))
        ]
        self.maxDiff = None
        self.assertEqual(unchecked, [])

    def test_every_model_of_ours_has_a_company_rule(self):
        models = [
            name
            for name, model in self.env.registry.items()
            if model._original_module in OURS
            and not model._abstract
            and not model._transient
        ]
        self.assertGreaterEqual(len(models), 8)
        ruled = self.env["ir.rule"].search(
            [
                ("model_id.model", "in", models),
                ("domain_force", "ilike", "company_ids"),
                ("groups", "=", False),
            ]
        )
        self.assertEqual(set(models) - set(ruled.model_id.mapped("model")), set())


@tagged("post_install", "-at_install")
class TestCompanyRelationsRefused(InvoiceManagerCommon):
    """The checks hold through the ORM, as an RPC client writes."""

    def test_cross_company_links_are_refused(self):
        company_b = self.setup_other_company(name="Relations Co B")["company"]
        sale_a = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        sale_b = self._create_sale(
            self.customer_alpha,
            date(2026, 10, 3),
            [(self.product_service, 1.0, 100.0)],
            company_id=company_b.id,
        )
        run = self._new_run()
        run.action_fetch()
        line = run.line_ids
        self.assertEqual(line.sale_order_ids, sale_a)
        with self.assertRaises(UserError):
            self.env["billing.run.line.item"].create(
                {"line_id": line.id, "sale_line_id": sale_b.order_line.id}
            )
        with self.assertRaises(UserError):
            line.sale_order_ids = sale_a | sale_b
        head_b = self.env["res.partner"].create(
            {"name": "Head of B", "is_company": True, "company_id": company_b.id}
        )
        with self.assertRaises(ValidationError):
            self.customer_beta.head_office_id = head_b
