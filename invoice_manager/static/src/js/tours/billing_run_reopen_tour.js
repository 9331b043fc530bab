/** @odoo-module */

import {registry} from "@web/core/registry";

const ROW = (text) => `.o_field_widget[name="line_ids"] .o_data_row:contains("${text}")`;
const STATE = (name) =>
    `.o_statusbar_status button.o_arrow_button_current:contains("${name}")`;

registry.category("web_tour.tours").add("billing_run_reopen_tour", {
    steps: () => [
        {
            content: "The processed run shows Beta Works in error: no email address",
            trigger: `${ROW("Beta Works")} td[name="state"]:contains("Error")`,
        },
        {
            trigger: `${ROW("Beta Works")} td:contains("no email address")`,
        },
        {
            content: "Reopen the run",
            trigger: 'button[name="action_reopen"]',
            run: "click",
        },
        {
            trigger: STATE("Billing Rules"),
        },
        {
            content: "The line in error can now be switched to Create Only",
            trigger: `${ROW("Beta Works")} td[name="billing_action"]`,
            run: "click",
        },
        {
            trigger:
                '.o_field_widget[name="line_ids"] .o_selected_row [name="billing_action"] span:contains("Create Only")',
            run: "click",
        },
        {
            content: "Process again",
            trigger: 'button[name="action_open_process_wizard"]:contains("Process Invoices")',
            run: "click",
        },
        {
            content: "Only the line in error is processed again",
            trigger: '.modal .o_billing_process_summary:contains("Invoices to create: 1")',
        },
        {
            trigger: '.modal button[name="action_process"]',
            run: "click",
        },
        {
            content: "The scheduler invoices the line",
            trigger: STATE("Processed"),
            timeout: 30000,
        },
        {
            content: "Beta Works is processed, no error left",
            trigger: `${ROW("Beta Works")} td[name="state"]:contains("Processed")`,
        },
        {
            trigger: `.o_form_view:not(:has(${ROW("Error")}))`,
        },
    ],
});

registry.category("web_tour.tours").add("billing_run_overlap_tour", {
    steps: () => [
        {
            content: "The second run over the same sales warns and names the first",
            trigger: ".o_billing_run_overlap:visible:contains('Some of these sales')",
        },
        {
            content: "Open the other run from the warning",
            trigger: '.o_billing_run_overlap button[name="action_open_overlapping_runs"]',
            run: "click",
        },
        {
            content: "The first run opens over the second, and warns about it",
            trigger: ".o_breadcrumb .breadcrumb-item",
        },
        {
            trigger: ".o_billing_run_overlap:visible",
        },
    ],
});
