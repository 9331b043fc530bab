# billing.scenario is split by concern, one file each, as Odoo splits its large
# models. pylint: disable=consider-merging-classes-inherited
from collections import defaultdict

from odoo import api, fields, models


class BillingScenario(models.Model):
    """The billing overview: per scenario, whether its last closed period is
    billed, the lines in error left to fix and the next scheduled run."""

    _inherit = "billing.scenario"

    overview_last_run_id = fields.Many2one(
        "billing.run", string="Last Run", compute="_compute_overview"
    )
    overview_period_from = fields.Date(
        string="Period to Bill From", compute="_compute_overview"
    )
    overview_period_to = fields.Date(
        string="Period to Bill To", compute="_compute_overview"
    )
    overview_is_due = fields.Boolean(
        string="Period to Bill",
        compute="_compute_overview",
        help="A closed period of this scenario is not billed yet (no processed "
        "run up to the last closed period).",
    )
    overview_error_count = fields.Integer(
        string="Lines in Error",
        compute="_compute_overview",
        help="Lines of this scenario's runs in error, left to fix (reopen the "
        "run, fix the cause, process again).",
    )
    overview_next_scheduled = fields.Datetime(
        string="Next Scheduled Run", compute="_compute_overview"
    )

    @api.depends_context("company")
    @api.depends("is_scheduled", "period_type", "run_ids.state", "run_ids.date_to")
    def _compute_overview(self):
        Run = self.env["billing.run"]
        last_runs = {
            scenario: Run.browse(run_id)
            for scenario, run_id in Run._read_group(
                [("scenario_id", "in", self.ids)], ["scenario_id"], ["id:max"]
            )
        }
        errors = defaultdict(int)
        for run, count in self.env["billing.run.line"]._read_group(
            [("run_id.scenario_id", "in", self.ids), ("state", "=", "error")],
            ["run_id"],
            ["__count"],
        ):
            errors[run.scenario_id] += count
        cron = self.env.ref("invoice_manager.ir_cron_billing_scenario_scheduled", False)
        nextcall = cron.sudo().nextcall if cron and cron.sudo().active else False
        for scenario in self:
            period_from, period_to = scenario._get_next_period()
            last_closed_to = scenario._get_last_closed_period()[1]
            scenario.overview_last_run_id = last_runs.get(scenario, Run)
            scenario.overview_period_from = period_from
            scenario.overview_period_to = period_to
            scenario.overview_is_due = period_to <= last_closed_to
            scenario.overview_error_count = errors.get(scenario, 0)
            scenario.overview_next_scheduled = (
                nextcall if scenario.is_scheduled else False
            )

    def action_view_error_lines(self):
        """The lines in error of this scenario's runs."""
        self.ensure_one()
        return self.env["billing.run.line"]._get_lines_action(
            [("run_id.scenario_id", "=", self.id)],
            self.env._("%s: lines in error", self.name),
            "error",
        )
