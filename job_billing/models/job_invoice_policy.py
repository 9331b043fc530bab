"""The job invoicing policies: one declaration each, read by the invoice
wizard (``billing.job.invoice``), the job invoice fields of ``account.move``
and the wizard's form. A new policy is one entry here (``register_policy``)
and one ``_prepare_<builder>_lines(grouped)`` method on the wizard returning
its invoice lines before any deposit deduction."""

from dataclasses import dataclass

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

JOB_INVOICE_TYPES = [
    ("partial", "Partial"),
    ("complete", "Complete"),
    ("correction", "Correction"),
]


@dataclass(frozen=True)
class JobInvoicePolicy:
    key: str
    label: object  # a lazy translated string (_lt) or a string
    invoice_type: str  # partial, complete or correction
    builder: str  # the wizard builds the lines with _prepare_<builder>_lines()
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


POLICIES = {}


def register_policy(policy):
    """Add ``policy`` to the table (an addon's or a test's); returns it."""
    POLICIES[policy.key] = policy
    return policy


for _policy in (
    JobInvoicePolicy(
        "deposit",
        _lt("Deposit"),
        "partial",
        "deposit",
        fields=("percent", "amount"),
    ),
    JobInvoicePolicy(
        "progress_summary",
        _lt("Progress, Summary"),
        "partial",
        "progress_summary",
        deposit="proportional",
        fields=("percent",),
    ),
    JobInvoicePolicy(
        "progress_itemized",
        _lt("Progress, Itemized"),
        "partial",
        "progress_itemized",
        lines="itemized",
        deposit="proportional",
    ),
    JobInvoicePolicy(
        "progress_itemized_grouped",
        _lt("Progress, Itemized, Charges Grouped"),
        "partial",
        "progress_itemized",
        lines="grouped",
        deposit="proportional",
    ),
    JobInvoicePolicy(
        "final",
        _lt("Complete (Final)"),
        "complete",
        "final",
        lines="itemized",
        deposit="all",
    ),
    JobInvoicePolicy(
        "final_grouped",
        _lt("Complete (Final), Charges Grouped"),
        "complete",
        "final",
        lines="grouped",
        deposit="all",
    ),
    JobInvoicePolicy(
        "correction",
        _lt("Correction"),
        "correction",
        "correction",
        lines="itemized",
        fields=("amount",),
    ),
    JobInvoicePolicy(
        "correction_grouped",
        _lt("Correction, Charges Grouped"),
        "correction",
        "correction",
        lines="grouped",
        fields=("amount",),
    ),
):
    register_policy(_policy)


def get_policy_selection(env):
    """The policies as selection values, in the table's order."""
    lang = env.lang or "en_US"
    return [
        (
            policy.key,
            policy.label._translate(lang)
            if hasattr(policy.label, "_translate")
            else policy.label,
        )
        for policy in POLICIES.values()
    ]
