/** @odoo-module */

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const LINES = '.o_field_widget[name="line_ids"] .o_data_row';

function checkLines(column, text, expected) {
    return {
        content: `${expected} lines show "${text}" in column ${column}`,
        trigger: LINES,
        run() {
            const count = [...document.querySelectorAll(LINES)].filter((row) =>
                row.querySelector(`td[name="${column}"]`)?.textContent.includes(text)
            ).length;
            if (count !== expected) {
                throw new Error(`Expected ${expected} lines with ${text}, found ${count}`);
            }
        },
    };
}

registry.category("web_tour.tours").add("invoice_manager_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Invoicing",
            trigger: '.o_app[data-menu-xmlid="account.menu_finance"]',
            run: "click",
        },
        {
            content: "Open the Customers menu",
            trigger: '.o_menu_sections [data-menu-xmlid="account.menu_finance_receivables"]',
            run: "click",
        },
        {
            content: "Open the Invoice Manager",
            trigger:
                '.o-dropdown-item[data-menu-xmlid="invoice_manager.menu_invoice_manager"]',
            run: "click",
        },
        {
            content: "Step 1: pick the billing scenario",
            trigger: '.o_field_widget[name="scenario_id"] input',
            run: "edit Tour monthly",
        },
        {
            trigger: '.ui-menu-item a:contains("Tour monthly scenario")',
            run: "click",
        },
        {
            content: "Next",
            trigger: 'button[name="action_next"]',
            run: "click",
        },
        {
            content: "Step 2: the billing rules are shown",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Billing Rules")',
        },
        {
            content: "Fetch the sales",
            trigger: 'button[name="action_fetch"]',
            run: "click",
        },
        checkLines("state", "Not Done", 3),
        {
            content: "Beta Works: choose Create Only instead of Email",
            trigger:
                '.o_field_widget[name="line_ids"] .o_data_row:contains("Beta Works") td[name="billing_action"]',
            run: "click",
        },
        {
            trigger:
                '.o_field_widget[name="line_ids"] .o_selected_row [name="billing_action"] span:contains("Create Only")',
            run: "click",
        },
        {
            content: "Process all invoices",
            trigger: 'button[name="action_open_process_wizard"]',
            run: "click",
        },
        {
            content: "Process asks first: how many invoices, posted, emailed, for what total",
            trigger:
                '.modal .o_billing_process_summary:contains("Invoices to create: 3"):contains("Posted: 3"):contains("Emailed: 2"):contains("taxes included")',
        },
        {
            content: "and when the mail queue sends the emails",
            trigger: '.modal .o_billing_process_summary:contains("mail queue")',
        },
        {
            content: "Confirm",
            trigger: '.modal button[name="action_process"]',
            run: "click",
        },
        {
            content: "The scheduler processes the run; its progress bar is shown",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Processing")',
        },
        {
            content: "It counts the lines invoiced and the lines done apart",
            trigger: ".o_field_billing_run_progress .o_billing_run_progress_invoiced",
        },
        {
            trigger: ".o_field_billing_run_progress .o_billing_run_progress_done",
        },
        {
            content: "The form refreshes itself until the run is processed",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Processed")',
            timeout: 30000,
        },
        checkLines("state", "Processed", 3),
        checkLines("delivery_channel", "Email", 2),
        {
            content: "Each line links to its invoice PDF",
            trigger:
                '.o_field_widget[name="line_ids"] .o_data_row:contains("Alpha Retail") button[name="action_open_pdf"]',
        },
    ],
});
