from odoo import Command, api, fields, models
from odoo.osv import expression


class BillingRunWizard(models.TransientModel):
    """Step 1 of the Invoice Manager: pick the billing scenario.

    *Next* makes the billing run, at the billing rules step (step 2). Opened
    from a selection of customers or sales, the run is preloaded with them and
    with their next un-invoiced billing cycle.
    """

    _name = "billing.run.wizard"
    _description = "Invoice Manager: Pick a Billing Scenario"
    _check_company_auto = True

    # the scenario's company once picked (the sales' when opened on sales)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    scenario_id = fields.Many2one(
        "billing.scenario",
        string="Billing Scenario",
        required=True,
        check_company=True,
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    scenario_description = fields.Text(related="scenario_id.description")
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        check_company=True,
        help="Invoice these customers only (preloaded from the customers selected).",
    )
    sale_order_ids = fields.Many2many(
        "sale.order",
        string="Sales",
        check_company=True,
        help="Invoice these sales only (preloaded from the sales selected).",
    )
    date_from = fields.Date(
        string="Period From", compute="_compute_cycle", store=True, readonly=False
    )
    date_to = fields.Date(
        string="Period To", compute="_compute_cycle", store=True, readonly=False
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        ids = self.env.context.get("active_ids") or []
        if model == "res.partner" and ids and "partner_ids" in fields_list:
            values["partner_ids"] = [Command.set(ids)]
        if model == "sale.order" and ids and "sale_order_ids" in fields_list:
            orders = self.env["sale.order"].browse(ids)
            values["sale_order_ids"] = [Command.set(ids)]
            if len(orders.company_id) == 1 and "company_id" in fields_list:
                # the sales' company, even when another one is the active one
                values["company_id"] = orders.company_id.id
            values["partner_ids"] = [
                Command.set(orders.partner_id.commercial_partner_id.ids)
            ]
        return values

    @api.depends("scenario_id")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = (
                wizard.scenario_id.company_id or wizard.company_id or self.env.company
            )

    @api.depends("scenario_id", "partner_ids", "sale_order_ids")
    def _compute_cycle(self):
        for wizard in self:
            if not wizard.scenario_id:
                continue
            wizard.date_from, wizard.date_to = wizard.scenario_id._get_next_cycle(
                partners=wizard.partner_ids, orders=wizard.sale_order_ids
            )

    def _prepare_run_values(self):
        """Values of the run made by *Next* (hook)."""
        self.ensure_one()
        values = {"scenario_id": self.scenario_id.id}
        if self.date_from and self.date_to:
            values.update(date_from=self.date_from, date_to=self.date_to)
        if self.partner_ids:
            values["partner_ids"] = [Command.set(self.partner_ids.ids)]
        if self.sale_order_ids:
            values["sale_domain"] = str(
                expression.AND(
                    [
                        self.scenario_id._get_sale_domain(),
                        [("id", "in", self.sale_order_ids.ids)],
                    ]
                )
            )
        return values

    def action_next(self):
        self.ensure_one()
        run = self.env["billing.run"].create(self._prepare_run_values())
        # The run in the main window with a clean trail: nothing of the page
        # the wizard was opened from (its active_id) follows into the URL.
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoice Manager"),
            "res_model": "billing.run",
            "res_id": run.id,
            "views": [(False, "form")],
            "target": "main",
            "context": {},
        }
