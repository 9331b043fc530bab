# The selector is split by concern, one file each: here Replace Existing Invoices.
# pylint: disable=consider-merging-classes-inherited,unused-argument
from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, models
from odoo.tools import float_compare, float_is_zero


class BillingRunSelector(models.AbstractModel):
    """Replace existing invoices: a billing cycle already invoiced by a run of
    the same scenario is invoiced again, and only then. A draft is regenerated
    in place; a posted invoice is reversed by a credit note and a new invoice
    made, the three linked and explained in their chatters."""

    _inherit = "billing.run.selector"

    @api.model
    def _get_replaceable_lines(self, run):
        """Processed lines of earlier runs of this scenario and period whose
        invoices this run replaces (invoices neither cancelled nor replaced)."""
        run.ensure_one()
        domain = [
            ("run_id.scenario_id", "=", run.scenario_id.id),
            ("run_id", "!=", run.id),
            ("run_id.date_from", "=", run.date_from),
            ("run_id.date_to", "=", run.date_to),
            ("state", "=", "processed"),
            ("invoice_ids", "!=", False),
        ]
        if run.partner_ids:
            domain.append(
                ("sale_order_ids.partner_id", "child_of", run.partner_ids.ids)
            )
        lines = self.env["billing.run.line"].search(domain)
        replaced = run.line_ids.replaced_invoice_ids
        return lines.filtered(
            lambda line: (
                self._get_replaceable_invoices(run, line.invoice_ids) - replaced
            )
        )

    @api.model
    def _get_replaceable_invoices(self, run, invoices):
        return invoices.filtered(
            lambda move: (
                move.state in ("draft", "posted")
                and move.move_type == "out_invoice"
                and not move.billing_replaced_by_id
                and move.payment_state not in ("reversed", "in_payment", "paid")
                and self._is_billed_by_sale_quantities(run, move)
            )
        )

    @api.model
    def _is_billed_by_sale_quantities(self, run, invoice):
        """Whether ``invoice`` and its posted credit notes bill only sale lines'
        quantities at the invoice's prices, so that billing the quantities
        again replaces it exactly. An invoice with a line added by hand, or
        credited by amount (another price or discount), is left as it is: a
        replacement would lose or repeat that amount."""
        products = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        if any(not line.sale_line_ids for line in products):
            return False
        prices = {
            (line.sale_line_ids[:1].id, line.price_unit, line.discount)
            for line in products
        }
        credit_notes = invoice.reversal_move_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_refund"
        )
        return all(
            line.sale_line_ids
            and (line.sale_line_ids[:1].id, line.price_unit, line.discount) in prices
            for line in credit_notes.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            )
        )

    @api.model
    def _prepare_replace_line_values(self, run, old_lines):
        """One line per replaced line: the same sales, billing again what its
        invoices billed (at today's prices and taxes)."""
        run.ensure_one()
        vals_list = []
        sequence = len(run.line_ids)
        quantities = {}
        old_by_index = {}
        for index, old in enumerate(old_lines):
            invoices = self._get_replaceable_invoices(run, old.invoice_ids)
            old_by_index[index] = (old, invoices)
            for sale_line, qty in self._get_replaced_quantities(run, invoices).items():
                by_line = quantities.setdefault((index, sale_line.order_id.id), {})
                by_line[sale_line.id] = by_line.get(sale_line.id, 0.0) + qty
        amounts = old_lines.sale_order_ids._get_billing_amounts_for(
            quantities, group_of=lambda index: index
        )
        for index, (old, invoices) in old_by_index.items():
            sequence += 1
            keys = [key for key in quantities if key[0] == index]
            vals_list.append(
                self._prepare_run_line_values(
                    run,
                    old.partner_id,
                    old.currency_id,
                    old.sale_order_ids,
                    [amounts[key] for key in keys],
                    sequence=sequence,
                    invoicing_mode=old.invoicing_mode,
                    head_office_invoicing=old.head_office_invoicing,
                    cycle_date_from=old.cycle_date_from,
                    cycle_date_to=old.cycle_date_to,
                    replaced_invoice_ids=[Command.set(invoices.ids)],
                    item_ids=[
                        Command.create({"sale_line_id": line_id, "quantity": qty})
                        for key in keys
                        for line_id, qty in quantities[key].items()
                    ],
                )
            )
        return vals_list

    @api.model
    def _get_replaced_quantities(self, run, invoices):
        """{sale line: quantity} that ``invoices`` still bill: what they
        invoiced, less what their posted credit notes credited (a replacement
        bills what the customer owes, at the corrected price)."""
        quantities = defaultdict(float)
        for invoice_line in invoices.invoice_line_ids:
            for sale_line in invoice_line.sale_line_ids.filtered(
                lambda line: not line.is_downpayment and not line.display_type
            ):
                quantities[sale_line] += invoice_line.product_uom_id._compute_quantity(
                    invoice_line.quantity, sale_line.product_uom
                )
        for sale_line, qty in self._get_credited_quantities(run, invoices).items():
            if sale_line in quantities:
                quantities[sale_line] -= qty
        precision = self._get_quantity_precision()
        return {
            sale_line: qty
            for sale_line, qty in quantities.items()
            if float_compare(qty, 0.0, precision_digits=precision) > 0
        }

    @api.model
    def _get_quantity_precision(self):
        return self.env["decimal.precision"].precision_get("Product Unit of Measure")

    @api.model
    def _get_credited_quantities(self, run, invoices):
        """{sale line: quantity} the posted credit notes of ``invoices``
        credited (Odoo's *Credit Note*)."""
        credited = defaultdict(float)
        credit_notes = invoices.reversal_move_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_refund"
        )
        for invoice_line in credit_notes.invoice_line_ids:
            for sale_line in invoice_line.sale_line_ids:
                credited[sale_line] += invoice_line.product_uom_id._compute_quantity(
                    invoice_line.quantity, sale_line.product_uom
                )
        return credited

    @api.model
    def _reverse_replaced_invoices(self, run, posted):
        """Reverse ``posted`` invoices by a credit note of what they still bill
        (net of their own credit notes), reconciled with them: what was paid on
        an invoice stays as a credit that ``_link_replacements`` gives to its
        replacement (Odoo's cancelling reversal would detach the payments)."""
        reversals = posted._reverse_moves(
            default_values_list=[
                {
                    "ref": self.env._(
                        "Replaced by billing run %(run)s: %(invoice)s",
                        run=run.name,
                        invoice=move.name,
                    ),
                    "billing_rebill_credited_qty": True,
                }
                for move in posted
            ]
        )
        for invoice, reversal in zip(posted, reversals, strict=True):
            credited = self._get_credited_quantities(run, invoice)
            precision = self._get_quantity_precision()
            commands = []
            for line in reversal.invoice_line_ids.filtered("sale_line_ids"):
                sale_line = line.sale_line_ids[:1]
                if float_compare(line.quantity, 0.0, precision_digits=precision) <= 0:
                    continue  # a deduction (down payment): reversed whole
                # What its credit notes credited, in this line's unit.
                available = sale_line.product_uom._compute_quantity(
                    credited.get(sale_line, 0.0), line.product_uom_id
                )
                used = max(min(available, line.quantity), 0.0)
                if float_is_zero(used, precision_digits=precision):
                    continue
                credited[sale_line] -= line.product_uom_id._compute_quantity(
                    used, sale_line.product_uom
                )
                left = line.quantity - used
                if float_is_zero(left, precision_digits=precision):
                    commands.append(Command.delete(line.id))
                else:
                    commands.append(Command.update(line.id, {"quantity": left}))
            if commands:
                reversal.write({"invoice_line_ids": commands})
        if self.env["sale.order.line"]._billing_defers_credit_rule():
            # OCA sale_line_refund_to_invoice_qty: the reversed quantities are
            # billed again (by the replacement), as its flag says.
            reversals.invoice_line_ids.write({"sale_qty_to_reinvoice": True})
        reversals.action_post()
        for invoice, reversal in zip(posted, reversals, strict=True):
            credit_notes = invoice.reversal_move_ids.filtered(
                lambda move: move.state == "posted"
            )
            self._reconcile_receivables(invoice | credit_notes | reversal)
        return reversals

    @api.model
    def _reconcile_receivables(self, moves):
        """Reconcile the open receivable lines of ``moves``, per account and
        customer (one customer's credit never pays another's invoice)."""
        lines = moves.line_ids.filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and not line.reconciled
            )
        )
        groups = defaultdict(list)
        for line in lines:
            key = (line.account_id, line.partner_id.commercial_partner_id)
            groups[key].append(line.id)
        for line_ids in groups.values():
            same = lines.browse(line_ids)
            if same.filtered(lambda line: line.balance > 0) and same.filtered(
                lambda line: line.balance < 0
            ):
                same.reconcile()

    @api.model
    def _give_credit_to_replacements(self, invoices):
        """What was paid on the invoices the posted ``invoices`` replace (left
        on their replacing credit notes) pays them."""
        replaced = (
            self.env["account.move"]
            .sudo()
            .search([("billing_replaced_by_id", "in", invoices.ids)])
        )
        for new in invoices.filtered(lambda move: move.state == "posted"):
            credit_notes = replaced.filtered(
                lambda move, new=new: move.billing_replaced_by_id == new
            ).reversal_move_ids.filtered(
                lambda move: move.billing_rebill_credited_qty and move.state == "posted"
            )
            if credit_notes:
                self._reconcile_receivables(new | credit_notes)

    @api.model
    def _release_replaced_invoices(self, run, lines):
        """Before ``lines`` are invoiced: their replaced drafts are emptied (to be
        filled again in place) and their replaced posted invoices reversed by a
        credit note whose quantities billing runs bill again.

        Return {line id: draft invoice id} to regenerate in place."""
        regenerate = {}
        for line in lines.filtered("replaced_invoice_ids"):
            invoices = self._get_replaceable_invoices(run, line.replaced_invoice_ids)
            drafts = invoices.filtered(lambda move: move.state == "draft")
            posted = invoices - drafts
            if drafts:
                regenerate[line.id] = drafts[0].id
                drafts.write({"invoice_line_ids": [Command.clear()]})
                # Further drafts of the line are cancelled: one invoice per line.
                drafts[1:].button_cancel()
            if posted:
                self._reverse_replaced_invoices(run, posted)
        if lines.replaced_invoice_ids:
            self.env.flush_all()
            lines.sale_order_ids.order_line.invalidate_recordset()
        return regenerate

    @api.model
    def _link_replacements(self, run, lines):
        """Link each replaced invoice to its replacement and tell it in the
        chatters of the replaced invoice, its credit note and the new one."""
        for line in lines.filtered("replaced_invoice_ids"):
            new = line.invoice_ids[:1]
            if not new:
                continue
            for old in line.replaced_invoice_ids - new:
                old.sudo().billing_replaced_by_id = new
                credit_notes = old.reversal_move_ids
                # What was paid on the old invoice pays the new one (once it is
                # posted: account.move._post gives it then).
                self._give_credit_to_replacements(new)
                values = {
                    "old": old._get_html_link(),
                    "new": new._get_html_link(),
                    "credit": Markup(", ").join(
                        note._get_html_link() for note in credit_notes
                    )
                    or self.env._("none (it was a draft)"),
                    "run": run._get_html_link(),
                }
                old.message_post(
                    body=Markup(
                        self.env._(
                            "Replaced by %(new)s in billing run %(run)s; "
                            "reversed by %(credit)s."
                        )
                    )
                    % values
                )
                new.message_post(
                    body=Markup(
                        self.env._(
                            "Replaces %(old)s (billing run %(run)s, “Replace "
                            "existing invoice”); the replaced invoice was "
                            "reversed by %(credit)s."
                        )
                    )
                    % values
                )
                for note in credit_notes:
                    note.message_post(
                        body=Markup(
                            self.env._(
                                "Reverses %(old)s, replaced by %(new)s in billing "
                                "run %(run)s."
                            )
                        )
                        % values
                    )
            if line.replaced_invoice_ids & new:
                new.message_post(
                    body=Markup(
                        self.env._("Regenerated in place by billing run %(run)s.")
                    )
                    % {"run": run._get_html_link()}
                )

    @api.model
    def _get_regenerated_moves(self, run, invoice_vals_list):
        """Write the invoice values meant for a replaced draft into it (in place);
        return the moves written and the values left to create."""
        regenerate = self.env.context.get("billing_run_regenerate") or {}
        moves = self.env["account.move"]
        left = []
        by_line = defaultdict(list)
        for vals in invoice_vals_list:
            line_id = vals.get("billing_run_line_id")
            if line_id in regenerate and not by_line[line_id]:
                by_line[line_id].append(vals)
                move = moves.browse(regenerate[line_id])
                move.write(vals)
                moves |= move
            else:
                left.append(vals)
        return moves, left
