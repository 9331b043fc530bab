from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class BillingJobInvoiceable(models.Model):
    _name = "billing.job.invoiceable"
    _description = "Job Invoiceable"
    _order = "job_id, source desc, sequence, id"
    _check_company_auto = True

    job_id = fields.Many2one(
        "billing.job", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="job_id.company_id", store=True)
    currency_id = fields.Many2one(related="job_id.currency_id")
    sequence = fields.Integer(default=10)
    source = fields.Selection(
        [("order_item", "Order Item"), ("charge", "Job Charge")],
        required=True,
        default="charge",
    )
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Sale Order Line",
        ondelete="set null",
        index=True,
        check_company=True,
    )
    charge_category = fields.Selection(
        [
            ("labour", "Labour"),
            ("materials", "Materials"),
            ("expenses", "Expenses"),
            ("other", "Other"),
        ],
        help="Job charges only: invoices with charges grouped bill one line per "
        "category.",
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
    )
    product_id = fields.Many2one("product.product", required=True, check_company=True)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_unit = fields.Float(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        precompute=True,
        readonly=False,
        digits="Product Price",
        help="Order items: the sale line's unit price, taxes included if its "
        "taxes are included in the price.",
    )
    discount = fields.Float(
        string="Discount (%)",
        digits="Discount",
        help="Order items: the sale line's discount.",
    )
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        precompute=True,
        help="Untaxed quantity x unit price, less the discount.",
    )
    allocation_ids = fields.One2many(
        "billing.job.allocation", "invoiceable_id", string="Invoice Lines"
    )
    qty_invoiced = fields.Float(
        string="Invoiced Qty",
        compute="_compute_invoiced",
        store=True,
        digits="Product Unit of Measure",
    )
    amount_invoiced = fields.Monetary(
        string="Invoiced", compute="_compute_invoiced", store=True
    )
    qty_to_invoice = fields.Float(
        string="Qty to Invoice",
        compute="_compute_to_invoice",
        store=True,
        digits="Product Unit of Measure",
    )
    amount_to_invoice = fields.Monetary(
        string="To Invoice", compute="_compute_to_invoice", store=True
    )
    amount_corrected = fields.Monetary(
        string="Corrected", compute="_compute_invoiced", store=True
    )

    _sql_constraints = [
        (
            "charge_category_required",
            "CHECK(source != 'charge' OR charge_category IS NOT NULL)",
            "A job charge needs a charge category.",
        ),
    ]

    @api.depends("product_id")
    def _compute_name(self):
        for item in self:
            if item.product_id and not item.name:
                item.name = item.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for item in self:
            if item.product_id and not item.price_unit:
                item.price_unit = item.product_id.lst_price

    @api.depends(
        "quantity",
        "price_unit",
        "discount",
        "currency_id",
        "product_id",
        "sale_line_id.tax_id",
    )
    def _compute_amount(self):
        for item in self:
            item.amount = item._get_untaxed_amount(item.quantity, item.price_unit)

    def _get_taxes(self):
        """The taxes the item is billed with: an order item's are its sale
        line's (already mapped by the order's fiscal position), a job
        charge's its product's sale taxes in the job's company."""
        self.ensure_one()
        if self._is_order_line_item():
            return self.sale_line_id.tax_id
        company = self.company_id or self.job_id.company_id or self.env.company
        return self.product_id.taxes_id.filtered(
            lambda tax: tax.company_id in company.parent_ids
        )

    def _is_order_line_item(self):
        """An order item still linked to its sale order line: billed as the
        sale line says (its price, discount and taxes)."""
        self.ensure_one()
        return self.source == "order_item" and bool(self.sale_line_id)

    def _get_untaxed_amount(self, quantity, price_unit):
        """Untaxed ``quantity`` x ``price_unit`` less the item's discount: a
        tax included in the price is taken out as on an invoice line
        (``compute_all``)."""
        self.ensure_one()
        currency = self.currency_id or self.env.company.currency_id
        taxes = self._get_taxes()
        price_unit *= 1.0 - (self.discount or 0.0) / 100.0
        if any(taxes.mapped("price_include")):
            return taxes.compute_all(
                price_unit,
                currency=currency,
                quantity=quantity,
                product=self.product_id,
                partner=self.job_id.partner_id,
            )["total_excluded"]
        return currency.round(quantity * price_unit)

    def _get_invoiced_allocation_domain(self):
        return [
            ("invoiceable_id", "in", self._origin.ids),
            ("move_id.state", "!=", "cancel"),
        ]

    @api.depends(
        "allocation_ids.quantity",
        "allocation_ids.amount",
        "allocation_ids.is_correction",
        "allocation_ids.move_id.state",
        # a deleted invoice line deletes its allocations in the database
        "allocation_ids.move_line_id.parent_state",
    )
    def _compute_invoiced(self):
        totals = defaultdict(float)
        if self._origin.ids:
            groups = self.env["billing.job.allocation"]._read_group(
                self._get_invoiced_allocation_domain(),
                ["invoiceable_id", "is_correction"],
                ["quantity:sum", "amount:sum"],
            )
            for item, is_correction, quantity, amount in groups:
                if is_correction:
                    totals[item.id, "corrected"] += amount
                else:
                    totals[item.id, "qty"] += quantity
                    totals[item.id, "amount"] += amount
        for item in self:
            key = item._origin.id
            item.qty_invoiced = totals[key, "qty"]
            item.amount_invoiced = totals[key, "amount"]
            item.amount_corrected = totals[key, "corrected"]

    @api.depends("quantity", "amount", "qty_invoiced", "amount_invoiced")
    def _compute_to_invoice(self):
        for item in self:
            # read first: an item its job's deletion just deleted (in the
            # database) raises before any value is set
            quantity, amount = item.quantity, item.amount
            item.qty_to_invoice = quantity - item.qty_invoiced
            item.amount_to_invoice = amount - item.amount_invoiced

    @api.constrains("quantity", "price_unit", "discount")
    def _check_quantity_invoiced(self):
        for item in self:
            if item.allocation_ids and item.quantity < item.qty_invoiced:
                raise ValidationError(
                    self.env._(
                        "%(item)s: %(qty)s already invoiced, the quantity cannot be "
                        "lower.",
                        item=item.name,
                        qty=item.qty_invoiced,
                    )
                )

    @api.constrains("qty_invoiced")
    def _check_invoiced_quantity(self):
        """Each invoiceable billed at most once, and never credited more than
        it was billed (``billing.job._check_job_figures``)."""
        jobs = self.job_id.exists()
        for job in jobs - jobs._get_figure_checks_deferred():
            error = job._get_items_figures_error()
            if error:
                raise ValidationError(error)

    @api.model_create_multi
    def create(self, vals_list):
        self.env["billing.job"].browse(
            {vals["job_id"] for vals in vals_list if vals.get("job_id")}
        )._check_editable()
        return super().create(vals_list)

    def write(self, vals):
        jobs = self.job_id
        jobs._check_editable()
        res = super().write(vals)
        if "job_id" in vals:
            self.job_id._check_editable()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        self.job_id._check_editable()
        invoiced = self.filtered(
            lambda i: i.allocation_ids.filtered(lambda a: a.move_id.state != "cancel")
        )
        if invoiced:
            raise UserError(
                self.env._(
                    "%(items)s already invoiced: an invoiced item cannot be deleted.",
                    items=", ".join(invoiced.mapped("name")),
                )
            )

    def _get_group_key(self, grouped):
        """Invoice line group: order items always alone; charges by category."""
        self.ensure_one()
        if grouped and self.source == "charge":
            return ("charge", self.charge_category)
        return ("item", self.id)
