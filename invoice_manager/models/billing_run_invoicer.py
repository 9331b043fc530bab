import logging
from collections import defaultdict

import psycopg2.errors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def is_connection_lost(error):
    """Whether a database error means the connection is gone (server restarted
    or shut down, network cut): the transaction is lost, nothing can be written
    in it; not a collision to retry in it, nor a line's own failure."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if not isinstance(error, psycopg2.OperationalError):
        return False
    code = error.pgcode
    return code is None or code.startswith(("08", "57P"))


class BillingRunInvoicer(models.AbstractModel):
    """Invoices one chunk of a run's lines, in the caller's transaction, and
    never commits: locks their sales, checks the run's rules again, creates
    and posts the invoices through Odoo's own ``_create_invoices()``, and
    records the result on the lines. Everything a run bills goes through
    ``_invoice_chunk``; the executor (``billing.run.executor``) decides when,
    and commits."""

    _name = "billing.run.invoicer"
    _description = "Billing Run Invoicer"

    @api.model
    def _invoice_chunk(self, run, lines):
        """Invoice ``lines`` of ``run``: the whole chunk at once, else line by
        line.

        A failing line turns to Error with its reason and never stops or rolls
        back the others; a collision with another transaction is raised for the
        whole chunk to be done again by the executor.
        """
        run.ensure_one()
        lines = lines._mark_blocked_lines_as_errors()
        to_invoice = lines.filtered(lambda line: not line.invoice_ids)
        if to_invoice:
            self._isolate_failures(
                run,
                to_invoice,
                lambda chunk: self._invoice_lines(run, chunk),
                lambda line, error: line._set_error(error),
                reraise=PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
            )
        # Lines whose invoice exists already (made before an interruption):
        # Create Only ones are done.
        lines.filtered(
            lambda line: (
                line.invoice_ids
                and line.state == "not_done"
                and line._get_delivery_action() == "create_only"
            )
        )._set_created()

    @api.model
    def _isolate_failures(self, run, lines, apply, on_error, reraise=()):
        """Run ``apply(lines)`` in a savepoint; if it fails, run it again line by
        line, each in its own savepoint, and hand each failing line and its error
        to ``on_error``. Errors of the types ``reraise`` are not handled."""
        # pylint: disable=broad-exception-caught
        try:
            with self.env.cr.savepoint():
                apply(lines)
            return
        except reraise:
            raise
        except Exception as error:
            if is_connection_lost(error):
                raise
            # Each line is retried alone just below.
            _logger.info(
                "Billing run %s: a chunk of %s lines failed, retrying line by line",
                run.id,
                len(lines),
                exc_info=_logger.isEnabledFor(logging.DEBUG),
            )
        for line in lines.browse(lines.ids):
            try:
                with self.env.cr.savepoint():
                    apply(line)
            except reraise:
                raise
            except Exception as error:
                if is_connection_lost(error):
                    raise
                # Reported on the line.
                on_error(line, error)

    # ------------------------------------------------------------------
    # Locks
    # ------------------------------------------------------------------

    @api.model
    def _get_locked_message(self):
        return self.env._(
            "The sale is being changed by another user or process right now: "
            "process this line again in a moment."
        )

    @api.model
    def _lock_orders(self, orders):
        """Lock ``orders`` for this transaction (see ``_lock_rows``)."""
        self._lock_rows("sale_order", orders.ids)

    @api.model
    def _lock_rows(self, table, ids):
        """Lock rows ``ids`` of ``table``, waiting for a transaction that holds
        them up to ``invoice_manager.lock_timeout`` seconds (then the lines fail
        in plain words).

        The rows are also touched (a no-op update): a transaction that locked and
        invoiced them before us makes our lock fail with a serialization error
        once it commits, and the chunk is done again on a fresh snapshot that
        sees its invoices (``billing.run.executor._process_chunk``).
        """
        if not ids:
            return
        timeout = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.lock_timeout", 30)
        )
        ids = tuple(sorted(ids))
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(SQL("SET LOCAL lock_timeout = %s", f"{max(timeout, 1)}s"))
                cr.execute(
                    SQL(
                        "SELECT id FROM %s WHERE id IN %s "
                        "ORDER BY id FOR NO KEY UPDATE",
                        SQL.identifier(table),
                        ids,
                    )
                )
                cr.execute(
                    SQL(
                        "UPDATE %s SET write_date = write_date WHERE id IN %s",
                        SQL.identifier(table),
                        ids,
                    )
                )
        except psycopg2.errors.LockNotAvailable as error:
            raise UserError(self._get_locked_message()) from error
        finally:
            cr.execute(SQL("SET LOCAL lock_timeout = DEFAULT"))

    # ------------------------------------------------------------------
    # Rules checked again, invoices made
    # ------------------------------------------------------------------

    @api.model
    def _exclude_unqualified_orders(self, run, lines):
        """Check the lines' sales against the run's rules again, now that they are
        locked: a sale that no longer qualifies is not invoiced, and its line says
        why. Return the lines with sales left to invoice."""
        orders = lines.sale_order_ids
        reasons = defaultdict(list)
        for reason, domain in (
            self.env["billing.run.selector"]._get_rule_domains(run).items()
        ):
            qualifying = self.env["sale.order"].search(
                expression.AND([[("id", "in", orders.ids)], domain])
            )
            for order in orders - qualifying:
                reasons[order].append(reason)
        if run.use_invoicing_mode:
            selector = self.env["billing.run.selector"]
            for order, reason in selector._get_changed_billing_reasons(
                run, lines
            ).items():
                reasons[order].append(reason)
        if not reasons:
            return lines
        kept = lines.browse()
        for line in lines:
            excluded = line.sale_order_ids.filtered(lambda order: order in reasons)
            if not excluded:
                kept |= line
                continue
            message = "\n".join(
                self.env._(
                    "%(sale)s was not invoiced: %(reasons)s.",
                    sale=order.name,
                    reasons=", ".join(reasons[order]),
                )
                for order in excluded
            )
            if excluded == line.sale_order_ids:
                line._set_skipped(message)
            else:
                # The other sales of the line are invoiced; the excluded ones can
                # be fetched again once they qualify.
                line.sudo().write(
                    {
                        "sale_order_ids": [Command.unlink(o.id) for o in excluded],
                        "error_message": message,
                    }
                )
                kept |= line
        return kept

    @api.model
    def _invoice_lines(self, run, lines):
        """Create (and post) the invoices of ``lines``; raise on any failure."""
        run.ensure_one()
        self._lock_orders(lines.sale_order_ids)
        lines.sale_order_ids.invalidate_recordset()
        lines.sale_order_ids.order_line.invalidate_recordset()
        lines = self._exclude_unqualified_orders(run, lines)
        if not lines.sale_order_ids:
            return
        selector = self.env["billing.run.selector"]
        regenerate = selector._release_replaced_invoices(run, lines)
        invoices = self.env["account.move"]
        for wave in self._split_in_waves(lines):
            invoices |= self._create_wave_invoices(run, wave, regenerate)
        invoices_by_line = defaultdict(set)
        for invoice in invoices:
            invoices_by_line[invoice.billing_run_line_id].add(invoice.id)
        to_post = self.env["account.move"]
        for line in lines:
            line_invoices = invoices.browse(sorted(invoices_by_line.get(line, ())))
            if run.auto_post or line._get_delivery_action() != "create_only":
                to_post |= line_invoices
        to_post = to_post.filtered(lambda move: move.state == "draft")
        # The user's right to post these invoices is checked as the user;
        # posting then runs as superuser (same user in the chatter) because
        # Odoo's sale updates the sales' down payment lines as it posts, which
        # a billing user who sells with "Own Documents Only" may not write.
        to_post.check_access("write")
        to_post.sudo().action_post()
        now = fields.Datetime.now()
        nothing_left = lines.browse()
        for line in lines:
            line_invoices = invoices_by_line.get(line)
            if not line_invoices:
                nothing_left |= line
                continue
            values = {
                "invoice_ids": [Command.set(sorted(line_invoices))],
                "process_date": now,
            }
            if line._get_delivery_action() == "create_only":
                values.update(state="processed", delivery_channel="none")
            line.sudo().write(values)
        nothing_left._set_invoiced_elsewhere()
        selector._link_replacements(run, lines)

    @api.model
    def _split_in_waves(self, lines):
        """``lines`` in waves where each sale is on one line at most: Odoo makes
        one invoice per order and call, so two deliveries of one order invoiced
        on their own are invoiced one call after the other."""
        waves = []
        for line in lines:
            orders = set(line.sale_order_ids.ids)
            for wave in waves:
                if not orders & wave[1]:
                    wave[0].append(line.id)
                    wave[1].update(orders)
                    break
            else:
                waves.append(([line.id], orders))
        return [lines.browse(line_ids) for line_ids, __ in waves]

    @api.model
    def _create_wave_invoices(self, run, lines, regenerate=None):
        """The invoices of ``lines`` (no sale on two of them), through Odoo's own
        ``_create_invoices``: one invoice per line, with what each line bills
        (``billing.run.selector._get_line_quantities``)."""
        if lines.item_ids:
            # A wave bills what the previous one left.
            self.env.flush_all()
            lines.sale_order_ids.order_line.invalidate_recordset()
        line_by_order = {
            order.id: line.id for line in lines for order in line.sale_order_ids
        }
        return lines.sale_order_ids.with_context(
            billing_run_id=run.id,
            billing_run_line_by_order=line_by_order,
            billing_run_quantities=self.env[
                "billing.run.selector"
            ]._get_line_quantities(run, lines),
            billing_run_regenerate=regenerate or {},
            raise_if_nothing_to_invoice=False,
        )._create_invoices(final=True)
