# One model in several files, by concern (see billing_job.py / account_move.py).
# pylint: disable=consider-merging-classes-inherited
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError


class BillingJob(models.Model):
    """The job's order items: the lines of its confirmed sale orders, kept in
    step with them."""

    _inherit = "billing.job"

    def _prepare_order_item_values(self, sale_line):
        """An order item bills what its sale line says: its quantity, unit
        price and discount here, its taxes read from the line
        (``billing.job.invoiceable._get_taxes``)."""
        return {
            "job_id": self.id,
            "sale_line_id": sale_line.id,
            "source": "order_item",
            "name": sale_line.name,
            "product_id": sale_line.product_id.id,
            "quantity": sale_line.product_uom_qty,
            "price_unit": sale_line.price_unit,
            "discount": sale_line.discount,
        }

    @api.model
    def _get_order_item_synced_fields(self):
        """The order item fields kept in step with their sale line (hook)."""
        return ("quantity", "price_unit", "discount")

    def _get_order_item_lines(self):
        return self.sale_order_ids.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
        )

    def _check_order_currency(self):
        """A job is in its company's currency: its sale orders too; and it
        bills them itself: an order already invoiced from the sale order
        cannot be linked."""
        for job in self:
            invoiced = job.sale_order_ids.order_line.invoice_lines.filtered(
                lambda line, job=job: (
                    line.parent_state != "cancel" and line.move_id.job_id != job
                )
            )
            if invoiced:
                raise UserError(
                    self.env._(
                        "Sale order %(orders)s is already invoiced (%(invoices)s): "
                        "job %(job)s bills its sale orders itself. Link an order "
                        "not invoiced yet, or cancel those invoices first.",
                        orders=", ".join(
                            invoiced.sale_line_ids.order_id.mapped("name")
                        ),
                        invoices=", ".join(
                            m._get_job_invoice_label() for m in invoiced.move_id
                        ),
                        job=job.name,
                    )
                )
            foreign = job.sale_order_ids.filtered(
                lambda order, job=job: order.currency_id != job.currency_id
            )
            if foreign:
                raise UserError(
                    self.env._(
                        "Sale order %(orders)s is in %(currency)s: job %(job)s bills "
                        "in %(company_currency)s only.",
                        orders=", ".join(foreign.mapped("name")),
                        currency=", ".join(foreign.currency_id.mapped("name")),
                        job=job.name,
                        company_currency=job.currency_id.name,
                    )
                )

    def _sync_order_items(self):
        """Create the order items of the linked sale order lines, update them,
        and drop those of unlinked orders that nothing invoiced."""
        self._check_order_currency()
        Invoiceable = self.env["billing.job.invoiceable"]
        to_create, to_update, stale = [], defaultdict(Invoiceable.browse), Invoiceable
        synced_fields = self._get_order_item_synced_fields()
        for job in self:
            sale_lines = job._get_order_item_lines()
            items = job.invoiceable_ids.filtered(lambda i: i.source == "order_item")
            by_line = {item.sale_line_id: item for item in items}
            for sale_line in sale_lines:
                values = job._prepare_order_item_values(sale_line)
                item = by_line.get(sale_line)
                synced = tuple(values[fname] for fname in synced_fields)
                if not item:
                    to_create.append(values)
                elif tuple(item[fname] for fname in synced_fields) != synced:
                    to_update[synced] |= item
            stale |= items.filtered(
                lambda i, lines=sale_lines: (
                    i.sale_line_id not in lines and not i.allocation_ids
                )
            )
        for synced, changed in to_update.items():
            changed.write(dict(zip(synced_fields, synced, strict=True)))
        stale.unlink()
        Invoiceable.create(to_create)

    def action_update_order_items(self):
        self._check_editable()
        self._sync_order_items()
