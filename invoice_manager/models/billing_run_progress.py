# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from datetime import timedelta

from odoo import api, fields, models

# A run processing with no line nor run written for this long has stalled
# (its worker was stopped): Resume is offered (``invoice_manager.stall_seconds``).
DEFAULT_STALL_SECONDS = 180


class BillingRun(models.Model):
    """What the form says while a run is processed: which engine works on it,
    and whether it stalled."""

    _inherit = "billing.run"

    processing_engine = fields.Selection(
        [("cron", "Odoo's scheduler")],
        compute="_compute_processing_engine",
        help="What processes the run: Odoo's scheduled action, or queue jobs "
        "when invoice_manager_queue hands it to them.",
    )
    is_stalled = fields.Boolean(
        string="Stalled",
        compute="_compute_is_stalled",
        help="Processing, with no progress for a while: the worker processing "
        "it may have been stopped. Resume Processing hands it over again.",
    )

    def _compute_processing_engine(self):
        for run in self:
            run.processing_engine = "cron"

    @api.depends("state")
    def _compute_is_stalled(self):
        processing = self.filtered(lambda run: run.state == "processing")
        (self - processing).is_stalled = False
        if not processing:
            return
        last_line_writes = dict(
            self.env["billing.run.line"]._read_group(
                [("run_id", "in", processing.ids)], ["run_id"], ["write_date:max"]
            )
        )
        seconds = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.stall_seconds", DEFAULT_STALL_SECONDS)
        )
        since = fields.Datetime.now() - timedelta(seconds=seconds)
        for run in processing:
            last = max(
                filter(None, (run.write_date, last_line_writes.get(run))),
                default=False,
            )
            run.is_stalled = bool(last) and last < since
