from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Set by Billing Users only (the partner form shows them to them only).
BILLING_PARTNER_FIELDS = (
    "billing_invoicing_mode",
    "billing_invoicing_period",
    "head_office_id",
    "head_office_invoicing",
)
INVOICING_MODES = [
    ("per_shipment", "One Invoice per Shipment"),
    ("per_order", "One Invoice per Order, once Fully Delivered"),
    ("batch", "One Batch Invoice per Period"),
]
INVOICING_PERIODS = [
    ("weekly", "Weekly"),
    ("biweekly", "Every Two Weeks"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
]
HEAD_OFFICE_INVOICING = [
    ("consolidated", "One Invoice for the Head Office and its Sites"),
    ("per_site", "One Invoice per Site, to the Head Office"),
]


def iso_weeks(year):
    """How many ISO weeks ``year`` has: 52, or 53 (2020, 2026...)."""
    return date(year, 12, 28).isocalendar()[1]


def two_week_period(day):
    """(first day, last day) of the two-week period containing ``day``.

    Periods pair the ISO weeks of each ISO year from week 1 (1-2, 3-4, ...,
    51-52), Monday to Sunday. In a year of 53 weeks, week 53 is paired with
    week 1 of the next year, whose weeks then pair from week 2 (2-3, ...,
    50-51) and whose week 52 is a period of one week; the year after pairs from
    week 1 again. So periods tile the calendar, no day in two periods or none,
    whatever the year has, and stay on odd ISO weeks in ordinary years.
    """
    monday = day - relativedelta(days=day.weekday())
    year, week, __ = monday.isocalendar()
    if week == 53:
        start, weeks = monday, 2
    elif iso_weeks(year - 1) == 53:
        if week == 1:
            start, weeks = monday - relativedelta(weeks=1), 2
        elif week == 52:
            start, weeks = monday, 1
        else:
            start, weeks = monday - relativedelta(weeks=week % 2), 2
    else:
        start, weeks = monday - relativedelta(weeks=(week + 1) % 2), 2
    return start, start + relativedelta(weeks=weeks, days=-1)


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Per company (each company invoices its customers its own way), without
    # a default written on every partner at install: an empty value reads as
    # the default (``_get_billing_...``). Named apart from OCA
    # partner_invoicing_mode's ``invoicing_mode``.
    billing_invoicing_mode = fields.Selection(
        INVOICING_MODES,
        company_dependent=True,
        help="How billing scenarios that follow the customers' invoicing modes "
        "invoice this customer, in this company: each validated delivery on its "
        "own invoice (the default); each order once, when it is fully delivered "
        "(a refused backorder counts as delivered); or one invoice per period with "
        "everything delivered in it. Services and goods invoiced on ordered "
        "quantities follow the same mode by order date. Odoo's own invoicing is "
        "not affected.",
    )
    billing_invoicing_period = fields.Selection(
        INVOICING_PERIODS,
        company_dependent=True,
        help="Batch invoicing: the period one invoice covers (monthly by default). "
        "A period is invoiced once it has ended; its cut-off is the delivery date.",
    )
    head_office_id = fields.Many2one(
        "res.partner",
        company_dependent=True,
        check_company=True,
        domain="[('is_company', '=', True), ('id', '!=', id)]",
        help="This customer is a site of that head office, in this company: "
        "billing scenarios that follow the customers' invoicing modes invoice the "
        "head office for it, as the head office chooses.",
    )
    head_office_invoicing = fields.Selection(
        HEAD_OFFICE_INVOICING,
        company_dependent=True,
        help="For a head office: one invoice for itself and all its sites, each "
        "site's part in a section of its own (the default); or one invoice per "
        "site, addressed to the head office for payment. The head office's "
        "invoicing mode and period apply to its sites.",
    )
    site_ids = fields.One2many(
        "res.partner",
        string="Sites",
        compute="_compute_site_ids",
        help="The customers whose head office this is, in the current company "
        "(their contacts follow them).",
    )

    billing_applied_invoicing_mode = fields.Selection(
        INVOICING_MODES,
        string="Invoicing Mode Applied",
        compute="_compute_billing_applied_mode",
        help="The invoicing mode billing runs apply to this customer's sales in "
        "this company: its head office's for a site, its company's for a contact.",
    )
    billing_applied_invoicing_period = fields.Selection(
        INVOICING_PERIODS,
        string="Invoicing Period Applied",
        compute="_compute_billing_applied_mode",
    )
    billing_invoicing_source = fields.Char(
        string="Applied From", compute="_compute_billing_applied_mode"
    )

    @api.depends_context("company")
    @api.depends(
        "commercial_partner_id",
        "billing_invoicing_mode",
        "billing_invoicing_period",
        "head_office_id",
    )
    def _compute_billing_applied_mode(self):
        for partner in self:
            billed = partner._get_billing_partner()
            partner.billing_applied_invoicing_mode = (
                billed.billing_invoicing_mode or "per_shipment"
            )
            partner.billing_applied_invoicing_period = (
                billed.billing_invoicing_period or "monthly"
                if partner.billing_applied_invoicing_mode == "batch"
                else False
            )
            partner.billing_invoicing_source = partner._get_billing_invoicing_source(
                billed
            )

    def _get_billing_invoicing_source(self, billed):
        """Where the mode applied to this customer comes from, in words."""
        self.ensure_one()
        if billed != self.commercial_partner_id:
            how = dict(
                self._fields["head_office_invoicing"]._description_selection(self.env)
            ).get(billed.head_office_invoicing or "consolidated")
            return self.env._(
                "its head office %(office)s (%(how)s)", office=billed.name, how=how
            )
        if billed != self._origin and self.parent_id:
            return self.env._("its company %(company)s", company=billed.name)
        if not billed.billing_invoicing_mode:
            return self.env._("the default: no mode set")
        return self.env._("its own setting")

    @api.depends_context("company")
    def _compute_site_ids(self):
        ids = [partner_id for partner_id in self._origin.ids if partner_id]
        sites = self.search([("head_office_id", "in", ids)]) if ids else self.browse()
        for partner in self:
            # the sites themselves, not their contacts (who copy the
            # commercial partner's head office)
            partner.site_ids = sites.filtered(
                lambda site, partner=partner: (
                    site.head_office_id == partner._origin
                    and site.commercial_partner_id == site
                )
            )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + list(BILLING_PARTNER_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        if not self._may_set_billing_fields():
            defaults = self.default_get(list(BILLING_PARTNER_FIELDS))
            for vals in vals_list:
                if vals.get("parent_id"):
                    continue  # a contact: its company's values
                if any(
                    (vals[name] or False) != (defaults.get(name) or False)
                    for name in BILLING_PARTNER_FIELDS
                    if name in vals
                ):
                    self._raise_billing_fields_access()
        partners = super().create(vals_list)
        if any(vals.get("head_office_id") for vals in vals_list):
            self.invalidate_model(["site_ids"])
        return partners

    def write(self, vals):
        billing_fields = set(vals) & set(BILLING_PARTNER_FIELDS)
        if billing_fields and not self._may_set_billing_fields():
            # Contacts receive their company's values (commercial fields sync):
            # only a change on a commercial partner is a user's decision.
            for partner in self.filtered(
                lambda p: p.commercial_partner_id == p and not p.parent_id
            ):
                for name in billing_fields:
                    value = partner._fields[name].convert_to_cache(
                        vals[name], partner, validate=False
                    )
                    current = partner[name]
                    if hasattr(current, "_name"):
                        current = current.id
                    if value != current:
                        self._raise_billing_fields_access()
        result = super().write(vals)
        if "head_office_id" in vals:
            # The head offices' sites (computed from the sites' head office).
            self.invalidate_model(["site_ids"])
        return result

    def _may_set_billing_fields(self):
        return self.env.su or self.env.user.has_group(
            "invoice_manager.group_billing_user"
        )

    def _raise_billing_fields_access(self):
        raise AccessError(
            self.env._(
                "Only Billing Users set a customer's invoicing mode, period and "
                "head office."
            )
        )

    @api.constrains("head_office_id")
    def _check_head_office_id(self):
        company = self.env.company
        for partner in self.filtered("head_office_id"):
            head = partner.head_office_id.commercial_partner_id
            # the value is this company's (company-dependent): res.partner
            # checks no company by itself unless Inventory is installed
            if head.company_id and head.company_id != company:
                raise ValidationError(
                    self.env._(
                        "%(head)s belongs to %(other)s: it cannot be the head "
                        "office of %(partner)s in %(company)s.",
                        head=head.name,
                        other=head.company_id.name,
                        partner=partner.name,
                        company=company.name,
                    )
                )
            if head == partner.commercial_partner_id:
                raise ValidationError(
                    self.env._("%s cannot be its own head office.", partner.name)
                )
            if head.head_office_id:
                raise ValidationError(
                    self.env._(
                        "%(head)s is itself a site of %(other)s: a head office "
                        "cannot be a site (one level of sites only).",
                        head=head.name,
                        other=head.head_office_id.name,
                    )
                )
            if partner.site_ids and partner.commercial_partner_id == partner:
                raise ValidationError(
                    self.env._(
                        "%s is the head office of other customers: it cannot be a "
                        "site itself.",
                        partner.name,
                    )
                )

    def _get_billing_partner(self):
        """The commercial partner billed for this customer's sales by invoicing
        modes: its head office if it has one, else itself."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        return commercial.head_office_id.commercial_partner_id or commercial

    def _get_invoicing_cycle(self, day):
        """(first day, last day) of this customer's invoicing period containing
        ``day`` (batch invoicing)."""
        self.ensure_one()
        period = self.billing_invoicing_period or "monthly"
        if period == "biweekly":
            return two_week_period(day)
        if period == "weekly":
            start = day - relativedelta(days=day.weekday())
            return start, start + relativedelta(days=6)
        months = 3 if period == "quarterly" else 1
        start = day.replace(day=1)
        if months == 3:
            start = start.replace(month=(day.month - 1) // 3 * 3 + 1)
        return start, start + relativedelta(months=months, days=-1)
