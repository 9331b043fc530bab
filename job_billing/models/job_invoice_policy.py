"""What a job invoicing policy is, and what one job invoice asks for.

The policies themselves are per database: their keys and labels are the
selection of ``account.move.job_invoice_policy`` (an addon adds one with
``selection_add`` and ``ondelete``), their properties come from
``billing.job.invoicer._get_job_invoice_policies()`` (an addon extends it
through ``super()``), and each policy's lines from the invoicer's
``_prepare_<builder>_lines(job, choices, policy)``. Nothing here is filled
at import: these are immutable values only."""

from dataclasses import dataclass, replace

JOB_INVOICE_TYPES = (
    ("partial", "Partial"),
    ("complete", "Complete"),
    ("correction", "Correction"),
)

# the policies of this module, in the order they are offered (an addon adds
# its own to the field with selection_add)
JOB_INVOICE_POLICIES = (
    ("deposit", "Deposit"),
    ("progress_summary", "Progress, Summary"),
    ("progress_itemized", "Progress, Itemized"),
    ("progress_itemized_grouped", "Progress, Itemized, Charges Grouped"),
    ("final", "Complete (Final)"),
    ("final_grouped", "Complete (Final), Charges Grouped"),
    ("correction", "Correction"),
    ("correction_grouped", "Correction, Charges Grouped"),
)

# invoice line kinds that bill the job price (deposits are balanced separately)
PRICE_LINE_KINDS = ("invoiceable", "progress", "adjustment")


@dataclass(frozen=True)
class JobInvoicePolicy:
    """The properties of one policy (its key and label are the selection's)."""

    invoice_type: str  # partial, complete or correction
    builder: str  # the invoicer builds the lines with _prepare_<builder>_lines()
    # "summary": no invoiceable lines offered; "itemized": the wizard offers
    # the invoiceables per quantity; "grouped": the same, job charges on one
    # line per charge category
    lines: str = "summary"
    deposit: str = "none"  # deducts: none, proportional (to what it bills), all
    fields: tuple = ()  # wizard fields it uses: "percent", "amount"

    @property
    def itemized(self):
        return self.lines in ("itemized", "grouped")

    @property
    def grouped(self):
        return self.lines == "grouped"


@dataclass(frozen=True)
class JobInvoiceChoices:  # pylint: disable=too-many-instance-attributes
    """What one job invoice is asked for, as plain values: the wizard's
    fields (or an RPC call's, or those of a draft being regenerated)."""

    policy: str
    partner: object  # res.partner the invoice is made out to
    percent: float = 0.0
    amount: float = 0.0
    reason: str = ""
    invoice_date: object = False
    # ((invoiceable, quantity, unit price), ...): the wizard's lines
    lines: tuple = ()
    # account.fiscal.position: the invoicer sets it from the partner
    fiscal_position: object = None

    def with_env(self, env):
        """The same choices, their records read in ``env``."""
        return replace(
            self,
            partner=self.partner.with_env(env),
            lines=tuple(
                (item.with_env(env), quantity, price_unit)
                for item, quantity, price_unit in self.lines
            ),
            fiscal_position=None
            if self.fiscal_position is None
            else self.fiscal_position.with_env(env),
        )
