from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_is_zero


def _replay_line_events(events):
    """The quantity one sale line's credit notes gave away, from its events in
    the order they happened: (when, 0, returned quantity) or (when, 1, (move
    type, made by a run, bills again, credits a return, quantity, what runs
    would have billed))."""
    given_away = returned = 0.0
    for __, kind, what in events:
        if kind == 0:
            returned += what
            continue
        move_type, by_run, rebill, return_credit, qty, billable = what
        if move_type == "out_refund" and qty > 0:
            if return_credit:
                returned = max(returned - qty, 0.0)
            elif not rebill:
                # A credit note made by hand credits the returns not credited
                # yet first; the rest is given away.
                of_returns = min(qty, returned)
                returned -= of_returns
                given_away += qty - of_returns
            continue
        billed = qty if move_type == "out_invoice" else -qty
        if billed > 0 and not by_run:
            again = billed if billable is None else max(billed - billable, 0.0)
            given_away -= min(again, given_away)
    return given_away


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    billing_qty_to_invoice = fields.Float(
        string="Quantity to Invoice by Billing Runs",
        compute="_compute_billing_qty_to_invoice",
        digits="Product Unit of Measure",
        help="What Odoo's own invoicing would invoice ('To Invoice'), except that "
        "a credit note does not make its quantities billable again unless "
        "'Bill Credited Quantities Again' is set on it, they were invoiced again "
        "outside billing runs (for instance by 'Reverse and Create Invoice'), or "
        "they were returned by the customer: billing runs never invoice a sale "
        "twice. Negative when returned quantities are still to credit.",
    )

    @api.depends(
        "qty_to_invoice",
        "display_type",
        "is_downpayment",
        "state",
        "product_uom",
        "invoice_lines.quantity",
        "invoice_lines.product_uom_id",
        "invoice_lines.billing_billable_qty",
        "invoice_lines.move_id.state",
        "invoice_lines.move_id.payment_state",
        "invoice_lines.move_id.move_type",
        "invoice_lines.move_id.billing_run_id",
        "invoice_lines.move_id.billing_rebill_credited_qty",
        "invoice_lines.move_id.billing_return_credit",
    )
    def _compute_billing_qty_to_invoice(self):
        credited = (
            defaultdict(float)
            if self._billing_defers_credit_rule()
            else self._get_billing_qty_credited_not_rebillable()
        )
        for line in self:
            if line.display_type or line.is_downpayment or line.state != "sale":
                line.billing_qty_to_invoice = 0.0
                continue
            # What a credit note gave away stays settled (never re-billed):
            # less to bill, or more of a return to credit.
            qty = line.qty_to_invoice - credited[line.id]
            if line.qty_to_invoice > 0:
                qty = max(qty, 0.0)
            line.billing_qty_to_invoice = qty

    @api.model
    def _billing_defers_credit_rule(self):
        """Whether OCA ``sale_line_refund_to_invoice_qty`` is installed: Odoo's
        invoiced quantity then already leaves out what a credit note credited
        (unless its line says *to reinvoice*), so billing runs follow that rule
        instead of subtracting credited quantities a second time."""
        return "sale_qty_to_reinvoice" in self.env["account.move.line"]._fields

    def _get_billing_qty_credited_not_rebillable(self):
        """Quantity credited by credit notes that billing runs must not bill again
        (what was given away), per line, in the line's unit of measure.

        The line's credit notes and invoices, and the customer's returns, are
        replayed in the order they happened (``_replay_billing_credits``). A
        credit note without 'Bill Credited Quantities Again' gives its
        quantities away, except:

        - what credits a return: a credit note made by invoicing returned
          quantities (``billing_return_credit``), or, for one made by hand (or
          before this addon was installed), the returned quantities not
          credited yet when it was made;
        - what was billed again: an invoice made outside billing runs after it
          that bills more than billing runs would have billed then (Odoo's
          'Create Invoice' bills credited quantities again; 'Reverse and Create
          Invoice' copies the reversed invoice). Invoice lines made before this
          addon was installed, or copied, do not say what runs would have
          billed: all their quantity counts as billed again.

        Drafts count, as Odoo's 'Invoiced' counts them.
        """
        result = defaultdict(float)
        rows = self._get_billing_credit_rows()
        if not rows:
            return result
        lines = self.browse({row[0] for row in rows})
        returns = lines._get_billing_returns()
        for line_id, given in lines._replay_billing_credits(rows, returns).items():
            result[line_id] = given
        return result

    def _get_billing_credit_rows(self):
        """The invoice lines of the lines of ``self`` that a credit note without
        'Bill Credited Quantities Again' credited: (sale line, made at, move
        type, made by a run, bills again, credits a return, unit, quantity,
        what runs would have billed), in the order they were made, leaving out
        the runs' own invoices (they never bill a credited quantity again).
        Non-cancelled moves, drafts included. One query for the whole
        recordset: fetching thousands of sales stays flat."""
        line_ids = [line_id for line_id in self.ids if line_id]
        if not line_ids:
            return []
        self.env["account.move.line"].flush_model(
            ["quantity", "product_uom_id", "billing_billable_qty"]
        )
        self.env["account.move"].flush_model(
            [
                "state",
                "move_type",
                "payment_state",
                "billing_run_id",
                "billing_rebill_credited_qty",
                "billing_return_credit",
            ]
        )
        return self.env.execute_query(
            SQL(
                """
                WITH moves AS (
                    SELECT rel.order_line_id, am.id AS move_id, am.create_date,
                           am.move_type,
                           am.billing_run_id IS NOT NULL AS by_run,
                           am.billing_rebill_credited_qty IS TRUE AS rebill,
                           am.billing_return_credit IS TRUE AS return_credit,
                           aml.product_uom_id, aml.quantity,
                           aml.billing_billable_qty
                      FROM sale_order_line_invoice_rel rel
                      JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                      JOIN account_move am ON am.id = aml.move_id
                     WHERE rel.order_line_id IN %s
                       AND am.move_type IN ('out_invoice', 'out_refund')
                       AND (am.state != 'cancel'
                            OR am.payment_state = 'invoicing_legacy')
                       AND (am.move_type = 'out_refund'
                            OR am.billing_run_id IS NULL)
                )
                SELECT order_line_id, create_date, move_type, by_run, rebill,
                       return_credit, product_uom_id, quantity,
                       billing_billable_qty
                  FROM moves
                 WHERE order_line_id IN (
                        SELECT order_line_id FROM moves
                         WHERE move_type = 'out_refund' AND NOT rebill
                           AND quantity > 0)
              ORDER BY order_line_id, move_id
                """,
                tuple(line_ids),
            )
        )

    def _replay_billing_credits(self, rows, returns):
        """{sale line id: quantity given away} from the rows of
        ``_get_billing_credit_rows`` and the returns of ``_get_billing_returns``,
        in the order they happened."""
        events = defaultdict(list)
        for line_id, made_at, *move in self._billing_rows_in_line_uom(rows):
            events[line_id].append((made_at, 1, move))
        for line_id, line_returns in returns.items():
            for when, qty in line_returns:
                events[line_id].append((when, 0, qty))
        return {
            line_id: _replay_line_events(sorted(line_events, key=lambda e: e[:2]))
            for line_id, line_events in events.items()
        }

    def _billing_rows_in_line_uom(self, rows):
        """The rows of ``_get_billing_credit_rows`` with their quantity in the
        sale line's unit, without the unit."""
        uoms = self.env["uom.uom"].browse({row[6] for row in rows if row[6]})
        uom_by_id = {uom.id: uom for uom in uoms}
        line_by_id = {line.id: line for line in self.browse({row[0] for row in rows})}
        for row in rows:
            line = line_by_id[row[0]]
            uom = uom_by_id.get(row[6])
            qty = row[7]
            if uom and line.product_uom and uom != line.product_uom:
                qty = uom._compute_quantity(qty, line.product_uom)
            yield (*row[:6], qty, row[8])

    def _get_billing_returns(self):
        """{line id: [(when, quantity)]}: what the customer sent back, in the
        line's unit. Sales alone know no returns; the deliveries bridge lists
        the returns Odoo deducts from 'Delivered'."""
        return {}

    def _is_billing_run_invoiceable(self):
        """Whether a billing run invoices this line (sections and notes: always)."""
        self.ensure_one()
        if self.display_type or self.is_downpayment:
            return True
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        return not float_is_zero(
            self._get_billing_run_quantity(), precision_digits=precision
        )

    def _get_billing_run_quantity(self):
        """The quantity the billing run invoicing this line bills now: what it
        fetched for it (context ``billing_run_quantities``: a delivery, the lines
        of a period), never more than Odoo's own quantity to invoice less the
        settled credits (``billing_qty_to_invoice``)."""
        self.ensure_one()
        qty = self.billing_qty_to_invoice
        wanted = (self.env.context.get("billing_run_quantities") or {}).get(
            self.order_id.id
        )
        if wanted is None:
            return qty
        wanted_qty = wanted.get(self.id, 0.0)
        if wanted_qty <= 0 or qty <= 0:
            return 0.0
        return min(wanted_qty, qty)

    def _prepare_invoice_line(self, **optional_values):
        values = super()._prepare_invoice_line(**optional_values)
        if self.display_type or self.is_downpayment:
            return values
        if self.env.context.get("billing_run_id"):
            values["quantity"] = self._get_billing_run_quantity()
        else:
            # What billing runs would bill now: what this invoice bills beyond
            # it bills credited quantities again.
            values["billing_billable_qty"] = max(self.billing_qty_to_invoice, 0.0)
        return values
