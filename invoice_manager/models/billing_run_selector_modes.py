# The selector is split by concern, one file each: here the invoicing modes.
# pylint: disable=consider-merging-classes-inherited,unused-argument
from collections import defaultdict

from odoo import Command, api, models
from odoo.tools import float_compare


class BillingUnit:
    """Something billable on its own: an order's lines invoiced on ordered
    quantities (by order date), or one delivery of an order (by delivery date,
    in ``invoice_manager_stock``). ``quantities``: {sale line: quantity}."""

    __slots__ = ("order", "quantities", "date", "key", "pickings", "cycle", "late")

    def __init__(self, order, quantities, date, key, pickings=None):
        self.order = order
        self.quantities = quantities
        self.date = date
        self.key = key
        self.pickings = pickings
        self.cycle = None
        self.late = False


class BillingRunSelector(models.AbstractModel):
    """Selecting by the customers' invoicing modes (``use_invoicing_mode``):
    what is billable, when, and on which invoice; head offices invoiced for
    their sites."""

    _inherit = "billing.run.selector"

    @api.model
    def _fetch_by_invoicing_mode(self, run, orders):
        """Values of the lines invoicing ``orders`` as their customers' modes say."""
        run.ensure_one()
        units = [
            unit
            for unit in self._get_billing_units(run, orders)
            if self._is_unit_due(run, unit)
        ]
        groups = defaultdict(list)
        for unit in units:
            groups[self._get_unit_grouping_key(run, unit)].append(unit)
        split_reasons = self._get_split_reasons(run, list(groups))
        amounts = orders._get_billing_amounts_for(
            self._get_group_quantities(run, list(groups.values())),
            group_of=lambda index: index,
        )
        vals_list = []
        for index, (key, group_units) in enumerate(groups.items()):
            vals = self._prepare_mode_line_values(run, group_units, index, amounts)
            vals["sequence"] = index + 1
            vals["split_reason"] = split_reasons.get(key, False)
            vals_list.append(vals)
        return vals_list

    @api.model
    def _get_group_quantities(self, run, groups):
        """{(group index, order id): {sale line id: quantity}} of ``groups``
        (lists of units)."""
        quantities = {}
        for index, group_units in enumerate(groups):
            for unit in group_units:
                by_line = quantities.setdefault((index, unit.order.id), {})
                for sale_line, qty in unit.quantities.items():
                    by_line[sale_line.id] = by_line.get(sale_line.id, 0.0) + qty
        return quantities

    # ------------------------------------------------------------------
    # What is billable
    # ------------------------------------------------------------------

    @api.model
    def _get_billing_units(self, run, orders):
        """The billable units of ``orders`` (hook): here, each order's lines with
        something to invoice, dated by the order (``invoice_manager_stock`` adds
        one unit per delivery for goods invoiced on delivered quantities)."""
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        units = []
        for order in orders:
            # Quantities to credit (returns) are left to Odoo's credit notes:
            # invoicing modes bill, they do not credit.
            quantities = {
                line: line.billing_qty_to_invoice
                for line in self._get_order_unit_lines(run, order)
                if float_compare(
                    line.billing_qty_to_invoice, 0.0, precision_digits=precision
                )
                > 0
            }
            if quantities:
                units.append(
                    BillingUnit(
                        order,
                        quantities,
                        self._to_local_date(run, order.date_order),
                        ("order", order.id),
                    )
                )
        return units

    @api.model
    def _get_order_unit_lines(self, run, order):
        """The lines of ``order`` billed by order date (hook)."""
        return order.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
        )

    @api.model
    def _to_local_date(self, run, value):
        """The day of ``value`` (a UTC datetime) in the run's company's time
        zone: the cut-off of a delivery or an order, by hand or scheduled."""
        return run.company_id._to_billing_date(value)

    @api.model
    def _is_unit_due(self, run, unit):
        """Whether ``unit`` is billed by this run, as its customer's mode says;
        sets its cycle (batch invoicing) and whether it is late."""
        if not unit.date or unit.date > run.date_to:
            return False
        partner = unit.order.partner_invoice_id._get_billing_partner()
        mode = partner.billing_invoicing_mode or "per_shipment"
        if mode == "per_order" and not self._is_order_complete_for_billing(
            run, unit.order
        ):
            return False
        if mode == "batch":
            unit.cycle = partner._get_invoicing_cycle(unit.date)
            if unit.cycle[1] > run.date_to:
                # Its period has not ended yet.
                return False
            unit.late = unit.cycle[1] < run.date_from
        else:
            unit.late = unit.date < run.date_from
        return True

    @api.model
    def _is_order_complete_for_billing(self, run, order):  # pylint: disable=unused-argument
        """Per-order invoicing: whether ``order`` is ready to be invoiced whole
        (hook; ``invoice_manager_stock``: once fully delivered)."""
        return True

    # ------------------------------------------------------------------
    # On which invoice
    # ------------------------------------------------------------------

    @api.model
    def _get_unit_grouping_key(self, run, unit):
        """Units sharing a key are one line and one invoice: (what the mode or
        the head office groups, then what one invoice cannot mix)."""
        order = unit.order
        partner = order.partner_invoice_id._get_billing_partner()
        site = order.partner_invoice_id.commercial_partner_id
        mode = partner.billing_invoicing_mode or "per_shipment"
        cycle = unit.cycle if mode == "batch" else None
        if self._is_invoiced_as_head_office(run, partner, site):
            if partner.head_office_invoicing == "per_site":
                grouping = ("per_site", partner.id, site.id, cycle)
            else:
                grouping = ("consolidated", partner.id, cycle)
        elif mode == "batch":
            grouping = ("batch", order.partner_invoice_id.id, cycle)
        elif mode == "per_order":
            grouping = ("per_order", order.id)
        else:
            grouping = ("per_shipment", *unit.key)
        return (grouping, *self._get_invoice_split_values(run, order))

    @api.model
    def _get_changed_billing_reasons(self, run, lines):
        """{order: why} for the sales of ``lines`` (made by invoicing modes) whose
        customer, head office or invoicing mode changed since the run was
        fetched: their line would bill the wrong customer, or in the wrong
        way. Checked again at Process, with the other rules."""
        reasons = {}
        for line in lines.filtered(
            lambda line: line.invoicing_mode and not line.replaced_invoice_ids
        ):
            for order in line.sale_order_ids:
                partner = order.partner_invoice_id._get_billing_partner()
                site = order.partner_invoice_id.commercial_partner_id
                head_office = self._is_invoiced_as_head_office(run, partner, site)
                billed = partner if head_office else site
                consolidation = (
                    (partner.head_office_invoicing or "consolidated")
                    if head_office
                    else False
                )
                mode = partner.billing_invoicing_mode or "per_shipment"
                if line.partner_id.commercial_partner_id != billed:
                    reasons[order] = self.env._(
                        "its customer is now billed to %(partner)s, not "
                        "%(fetched)s (head office changed since the run was "
                        "fetched): fetch again",
                        partner=billed.display_name,
                        fetched=line.partner_id.commercial_partner_id.display_name,
                    )
                elif (
                    (line.head_office_invoicing or False) != consolidation
                    or line.invoicing_mode != mode
                    or self._is_cycle_changed(run, line, order, partner)
                ):
                    reasons[order] = self.env._(
                        "its customer's invoicing mode, period or head office "
                        "invoicing changed since the run was fetched: fetch again"
                    )
        return reasons

    @api.model
    def _is_cycle_changed(self, run, line, order, partner):
        """Whether a batch line's cycle is no longer the customer's period for
        the items of ``order`` it bills (its invoicing period changed)."""
        if line.invoicing_mode != "batch" or not line.cycle_date_from:
            return False
        cycle = (line.cycle_date_from, line.cycle_date_to)
        return any(
            partner._get_invoicing_cycle(item.date) != cycle
            for item in line.item_ids
            if item.order_id == order and item.date
        )

    @api.model
    def _is_invoiced_as_head_office(self, run, partner, site):
        """Whether the sales of ``site`` are invoiced to the head office
        ``partner`` as its consolidation says: a site's, and the head office's
        own sales once it has sites."""
        return partner != site or bool(partner.site_ids)

    @api.model
    def _get_invoice_split_values(self, run, order):
        """What one invoice never mixes (hook): company, currency, fiscal position,
        payment terms. Sales that differ in these are split into several
        invoices; ``_get_split_labels()`` names them, in this order."""
        return (
            order.company_id.id,
            order.currency_id.id,
            order.fiscal_position_id.id,
            order.payment_term_id.id,
        )

    @api.model
    def _get_split_labels(self, run):
        return [
            self.env._("company"),
            self.env._("currency"),
            self.env._("fiscal position"),
            self.env._("payment terms"),
        ]

    @api.model
    def _get_split_reasons(self, run, keys):
        """{key: why} for the groups split from others of the same customer and
        cycle because their sales differ in what one invoice cannot mix."""
        by_grouping = defaultdict(list)
        for key in keys:
            by_grouping[key[0]].append(key)
        labels = self._get_split_labels(run)
        reasons = {}
        for same in by_grouping.values():
            if len(same) < 2:
                continue
            differing = [
                label
                for position, label in enumerate(labels, start=1)
                if len({key[position] for key in same}) > 1
            ]
            reason = self.env._(
                "Split into %(count)s invoices: the sales differ in %(what)s.",
                count=len(same),
                what=", ".join(differing),
            )
            for key in same:
                reasons[key] = reason
        return reasons

    @api.model
    def _prepare_mode_line_values(self, run, units, index, amounts):
        """Values of the line invoicing ``units`` (same grouping key)."""
        first = units[0].order
        partner = first.partner_invoice_id._get_billing_partner()
        site = first.partner_invoice_id.commercial_partner_id
        orders = self.env["sale.order"].browse(
            dict.fromkeys(unit.order.id for unit in units)
        )
        head_office = self._is_invoiced_as_head_office(run, partner, site)
        invoice_partner = first.partner_invoice_id
        if head_office:
            invoice_partner = invoice_partner.browse(
                partner.address_get(["invoice"])["invoice"]
            )
        cycles = [unit.cycle for unit in units if unit.cycle]
        return self._prepare_run_line_values(
            run,
            invoice_partner,
            first.currency_id,
            orders,
            [amounts.get((index, order.id), (0.0, 0.0)) for order in orders],
            invoicing_mode=partner.billing_invoicing_mode or "per_shipment",
            head_office_invoicing=(
                (partner.head_office_invoicing or "consolidated")
                if head_office
                else False
            ),
            cycle_date_from=cycles[0][0] if cycles else False,
            cycle_date_to=cycles[0][1] if cycles else False,
            is_late=any(unit.late for unit in units),
            item_ids=[
                Command.create(self._prepare_item_values(run, unit, sale_line, qty))
                for unit in units
                for sale_line, qty in unit.quantities.items()
            ],
        )

    @api.model
    def _prepare_item_values(self, run, unit, sale_line, quantity):
        return {
            "sale_line_id": sale_line.id,
            "quantity": quantity,
            "date": unit.date,
            "is_late": unit.late,
        }

    @api.model
    def _get_line_quantities(self, run, lines):
        """{order id: {sale line id: quantity}} the ``lines`` invoice, for the
        lines made by invoicing modes (the others bill what Odoo would)."""
        quantities = {}
        for line in lines.filtered("item_ids"):
            # A sale of a line with items bills its items only (none: nothing).
            for order in line.sale_order_ids:
                quantities.setdefault(order.id, {})
        for item in lines.item_ids:
            by_line = quantities.setdefault(item.order_id.id, {})
            by_line[item.sale_line_id.id] = (
                by_line.get(item.sale_line_id.id, 0.0) + item.quantity
            )
        return quantities

    @api.model
    def _get_site_sections(self, run, line, invoice_line_commands):
        """A consolidated invoice's lines, each site's part under a section of its
        own (the site, its delivery address, its orders)."""
        if line.head_office_invoicing != "consolidated":
            return invoice_line_commands
        groups = defaultdict(list)
        pending = []
        for command in invoice_line_commands:
            values = command[2]
            sale_line_ids = [
                link[1]
                for link in values.get("sale_line_ids") or []
                if link[0] == Command.LINK
            ]
            if not sale_line_ids:
                # The down payment section: with the line that follows it.
                pending.append(command)
                continue
            order = self.env["sale.order.line"].browse(sale_line_ids[0]).order_id
            groups[order.partner_id.commercial_partner_id].extend(pending)
            groups[order.partner_id.commercial_partner_id].append(command)
            pending = []
        if pending and groups:
            groups[list(groups)[-1]].extend(pending)
        orders = line.sale_order_ids
        result = []
        sequence = 1
        for site in sorted(
            groups, key=lambda partner: (partner.name or "", partner.id)
        ):
            site_orders = orders.filtered(
                lambda order, site=site: order.partner_id.commercial_partner_id == site
            )
            result.append(
                Command.create(
                    {
                        "display_type": "line_section",
                        "name": self._get_site_section_name(run, site, site_orders),
                        "sequence": sequence,
                    }
                )
            )
            sequence += 1
            for command in groups[site]:
                command[2]["sequence"] = sequence
                sequence += 1
                result.append(command)
        return result

    @api.model
    def _get_site_section_name(self, run, site, orders):
        address = orders[:1].partner_shipping_id or site
        street = ", ".join(
            part for part in (address.street, address.zip, address.city) if part
        )
        references = [
            f"{order.name} ({order.client_order_ref})"
            if order.client_order_ref
            else order.name
            for order in orders
        ]
        address = f" ({street})" if street else ""
        return self.env._(
            "%(site)s%(address)s - orders %(orders)s",
            site=site.name,
            address=address,
            orders=", ".join(references),
        )
