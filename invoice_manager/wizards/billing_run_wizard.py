from odoo import api, fields, models


class BillingRunWizard(models.TransientModel):
    """Step 1 of the Invoice Manager: pick the billing scenario.

    *Next* makes the billing run, at the billing rules step (step 2).
    """

    _name = "billing.run.wizard"
    _description = "Invoice Manager: Pick a Billing Scenario"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    scenario_id = fields.Many2one(
        "billing.scenario",
        string="Billing Scenario",
        required=True,
        check_company=True,
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    scenario_description = fields.Text(related="scenario_id.description")

    @api.model
    def _prepare_run_values(self):
        """Values of the run made by *Next* (hook)."""
        return {"scenario_id": self.scenario_id.id}

    def action_next(self):
        self.ensure_one()
        run = self.env["billing.run"].create(self._prepare_run_values())
        return run._get_records_action(name=self.env._("Invoice Manager"))
