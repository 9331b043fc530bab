from odoo import api, fields, models

from ..models.res_partner import INVOICING_MODES, INVOICING_PERIODS


class BillingToInvoiceReport(models.Model):
    """What is left to bill: every confirmed sale line Odoo says is still to
    invoice (its own invoice status and amount to invoice), with the customer
    billed for it (the head office of a site), the invoicing mode and period
    that apply in the sale's company, and the approval. Amounts in the
    current company's currency, converted as Odoo's sale.report does (the
    sale's rate, then the companies' currency table), so that they add up
    over several companies."""

    _name = "billing.to.invoice.report"
    _description = "Left to Bill"
    _auto = False
    _rec_name = "order_id"
    _order = "date_order desc, id desc"
    # what the query reads: flushed before it runs
    _depends = {
        "sale.order.line": [
            "order_id",
            "product_id",
            "display_type",
            "invoice_status",
            "qty_to_invoice",
            "untaxed_amount_to_invoice",
        ],
        "sale.order": [
            "state",
            "company_id",
            "partner_id",
            "partner_invoice_id",
            "user_id",
            "team_id",
            "date_order",
            "currency_rate",
            "approved_for_invoicing",
        ],
        "res.partner": [
            "commercial_partner_id",
            "head_office_id",
            "billing_invoicing_mode",
            "billing_invoicing_period",
        ],
        "res.company": ["currency_id"],
        "res.currency.rate": ["rate", "name", "company_id"],
    }

    order_line_id = fields.Many2one(
        "sale.order.line", string="Sale Line", readonly=True, check_company=True
    )
    order_id = fields.Many2one(
        "sale.order", string="Sale", readonly=True, check_company=True
    )
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, check_company=True
    )
    billed_partner_id = fields.Many2one(
        "res.partner",
        string="Billed To",
        readonly=True,
        check_company=True,
        help="The customer, or its head office when it is a site.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", readonly=True, check_company=True
    )
    product_id = fields.Many2one("product.product", readonly=True, check_company=True)
    date_order = fields.Datetime(string="Order Date", readonly=True)
    approved_for_invoicing = fields.Boolean(readonly=True)
    invoicing_mode = fields.Selection(INVOICING_MODES, readonly=True)
    invoicing_period = fields.Selection(INVOICING_PERIODS, readonly=True)
    qty_to_invoice = fields.Float(
        string="Quantity to Invoice", digits="Product Unit of Measure", readonly=True
    )
    amount_to_invoice = fields.Monetary(
        string="Untaxed to Invoice", currency_field="currency_id", readonly=True
    )

    def _select(self):
        # company-dependent fields: a jsonb value per company id
        company_key = "so.company_id::text"
        return f"""
            sol.id AS id,
            sol.id AS order_line_id,
            so.id AS order_id,
            so.company_id AS company_id,
            customer.id AS partner_id,
            billed.id AS billed_partner_id,
            so.user_id AS user_id,
            so.team_id AS team_id,
            sol.product_id AS product_id,
            so.date_order AS date_order,
            COALESCE(so.approved_for_invoicing, FALSE) AS approved_for_invoicing,
            COALESCE(billed.billing_invoicing_mode->>{company_key}, 'per_shipment')
                AS invoicing_mode,
            CASE WHEN billed.billing_invoicing_mode->>{company_key} = 'batch'
                THEN COALESCE(
                    billed.billing_invoicing_period->>{company_key}, 'monthly')
            END AS invoicing_period,
            sol.qty_to_invoice AS qty_to_invoice,
            sol.untaxed_amount_to_invoice
                / CASE COALESCE(so.currency_rate, 0)
                    WHEN 0 THEN 1.0 ELSE so.currency_rate END
                * CASE COALESCE(account_currency_table.rate, 0)
                    WHEN 0 THEN 1.0 ELSE account_currency_table.rate END
                AS amount_to_invoice
        """

    @api.depends_context("allowed_company_ids")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id

    def _from(self):
        currency_table = self.env["res.currency"]._get_simple_currency_table(
            self.env.companies
        )
        currency_table = self.env.cr.mogrify(currency_table).decode(
            self.env.cr.connection.encoding
        )
        return f"""
            sale_order_line sol
            JOIN sale_order so ON so.id = sol.order_id
            JOIN {currency_table} ON account_currency_table.company_id = so.company_id
            JOIN res_partner partner ON partner.id = so.partner_invoice_id
            JOIN res_partner customer ON customer.id = partner.commercial_partner_id
            LEFT JOIN res_partner office ON office.id =
                (customer.head_office_id->>so.company_id::text)::int
            JOIN res_partner billed ON billed.id =
                COALESCE(office.commercial_partner_id, customer.id)
        """

    def _where(self):
        """Odoo's own "to invoice" (hook)."""
        return """
            so.state = 'sale'
            AND sol.display_type IS NULL
            AND sol.invoice_status = 'to invoice'
        """

    @property
    def _table_query(self):
        return f"SELECT {self._select()} FROM {self._from()} WHERE {self._where()}"
