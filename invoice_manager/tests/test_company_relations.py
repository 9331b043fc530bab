from odoo.tests import TransactionCase, tagged

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
    to a company is checked by Odoo (``check_company``): no record links a
    record of another company, whoever writes it and however (RPC included)."""

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

    def test_every_relation_of_ours_is_company_checked(self):
        unchecked = [
            f"{field.model_name}.{field.name} -> {field.comodel_name}"
            for model in self.env.registry.values()
            if "company_id" in model._fields and not model._abstract
            for field in model._fields.values()
            if self._links_two_companies(field) and not field.check_company
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
