/** @odoo-module */

import {registry} from "@web/core/registry";

/**
 * Fail the tour when the page, or the action's content, scrolls sideways:
 * wide blocks must wrap at a phone's width.
 */
function assertNoHorizontalScroll() {
    const root = document.documentElement;
    const content = document.querySelector(".o_content");
    const overflows = [["page", root.scrollWidth, window.innerWidth]];
    if (content) {
        overflows.push(["content", content.scrollWidth, content.clientWidth]);
    }
    // nor a list scrolling in its own box
    for (const list of document.querySelectorAll(".o_action_manager .o_list_renderer")) {
        overflows.push(["list", list.scrollWidth, list.clientWidth]);
    }
    const wide = overflows.filter(([, scrollWidth, width]) => scrollWidth > width);
    if (wide.length) {
        throw new Error(
            `Horizontal scroll at ${window.innerWidth}px: ${JSON.stringify(wide)}`
        );
    }
}

// the job of the accountant's review: 30 % deposit and 40 % progress posted,
// the final invoice of 4,200.00 in draft
registry.category("web_tour.tours").add("job_billing_screens_tour", {
    steps: () => [
        {
            content: "The job shows what posted invoices billed",
            trigger: '.o_form_view .o_form_label:contains("Invoiced (posted)")',
        },
        {
            content: "4,000.00 billed by posted invoices",
            trigger: '.o_field_widget[name="amount_invoiced_posted"]:contains("4,000.00")',
        },
        {
            content: "and, apart, what the draft invoices bill",
            trigger: '.o_form_view .o_form_label:contains("In Draft")',
        },
        {
            content: "6,000.00 in draft",
            trigger: '.o_field_widget[name="amount_invoiced_draft"]:contains("6,000.00")',
        },
        {
            content: "The percent is that of the posted invoices",
            trigger: '.o_form_view .o_form_label:contains("Invoiced % (posted)")',
        },
        {
            content: "40 % posted",
            trigger: '.o_field_widget[name="progress_percent_posted"]:contains("40")',
        },
        {
            content: "No amount mixes drafts with posted invoices any more",
            trigger: '.o_form_view:not(:contains("Invoiced So Far"))',
        },
        {
            content: "A draft: Regenerate Draft Invoice is offered",
            trigger: 'button[name="action_regenerate_drafts"]',
        },
        {
            content: "Open the job's invoices",
            trigger: 'button[name="action_view_invoices"]',
            run: "click",
        },
        {
            content: "Odoo's invoice list label: Tax Excluded",
            trigger:
                '.o_list_view th[data-name="amount_untaxed_in_currency_signed"]:contains("Tax Excluded")',
        },
        {
            content: "Total",
            trigger: '.o_list_view th[data-name="amount_total_in_currency_signed"]:contains("Total")',
        },
        {
            content: "Amount Due",
            trigger: '.o_list_view th[data-name="amount_residual_signed"]:contains("Amount Due")',
        },
        {
            content: "Customer",
            trigger: '.o_list_view th[data-name="partner_id"]:contains("Customer")',
        },
        {
            content: "The totals row sums the untaxed amounts, with their currency",
            trigger: '.o_list_footer td.o_list_number:contains("10,000.00"):contains("$")',
        },
        {
            content: "No total without its currency",
            trigger: '.o_list_footer:not(:contains("—"))',
        },
        {
            content: "The draft final invoice's job status reads Draft",
            trigger: '.o_data_row:contains("4,200.00") td[name="job_workflow_state"]:contains("Draft")',
        },
        {
            content: "No job invoice reads Invoiced",
            trigger: '.o_list_view:not(:has(td[name="job_workflow_state"]:contains("Invoiced")))',
        },
    ],
});

// the same job on a phone (390 px wide, touch): cards, then the job card
registry.category("web_tour.tours").add("job_billing_mobile_tour", {
    steps: () => [
        {
            content: "The jobs show as cards: the customer",
            trigger: '.o_kanban_view .o_kanban_record:contains("Tour Heating Customer")',
        },
        {
            content: "the job price",
            trigger:
                '.o_kanban_record:contains("Tour Heating Customer") [name="suggested_price"]:contains("10,000.00")',
        },
        {
            content: "the status",
            trigger:
                '.o_kanban_record:contains("Tour Heating Customer") [name="state"]:contains("Closed")',
        },
        {
            content: "The cards fit the phone's width",
            trigger: ".o_kanban_view .o_kanban_record",
            run() {
                if (window.innerWidth > 400) {
                    throw new Error(`Not a phone's width: ${window.innerWidth}px`);
                }
                assertNoHorizontalScroll();
            },
        },
        {
            content: "Open the job",
            trigger: '.o_kanban_record:contains("Tour Heating Customer")',
            run: "click",
        },
        {
            content: "The job card shows the posted amount",
            trigger: '.o_form_view .o_field_widget[name="amount_invoiced_posted"]:contains("4,000.00")',
        },
        {
            content: "Its invoiceables are cards",
            trigger:
                '.o_form_view .o_field_widget[name="invoiceable_ids"] .o_kanban_record:contains("Installer hours")',
        },
        {
            content: "The job card fits the phone's width",
            trigger: '.o_form_view .o_field_widget[name="amount_invoiced_draft"]',
            run: assertNoHorizontalScroll,
        },
        {
            content: "Its invoices tab",
            trigger: '.o_notebook .nav-link:contains("Invoices")',
            run: "click",
        },
        {
            content: "Its invoices are cards: the draft final invoice reads Draft",
            trigger:
                '.o_field_widget[name="invoice_ids"] .o_kanban_record:contains("Complete (Final)") [name="job_workflow_state"]:contains("Draft")',
        },
        {
            content: "The invoices fit the phone's width too",
            trigger: '.o_notebook .o_field_widget[name="invoice_ids"] .o_kanban_record',
            run: assertNoHorizontalScroll,
        },
    ],
});
