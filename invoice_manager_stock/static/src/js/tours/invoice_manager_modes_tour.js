/** @odoo-module */

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const LINES = '.o_field_widget[name="line_ids"] .o_data_row';

function checkRows(selector, text, expected) {
    return {
        content: `${expected} rows of ${selector} show "${text}"`,
        trigger: selector,
        run() {
            const count = [...document.querySelectorAll(selector)].filter((row) =>
                row.textContent.includes(text)
            ).length;
            if (count !== expected) {
                throw new Error(`Expected ${expected} rows with ${text}, found ${count}`);
            }
        },
    };
}

registry.category("web_tour.tours").add("invoice_manager_modes_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Invoicing",
            trigger: '.o_app[data-menu-xmlid="account.menu_finance"]',
            run: "click",
        },
        {
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
            content: "Pick the scenario that follows the customers' modes",
            trigger: '.o_field_widget[name="scenario_id"] input',
            run: "edit Tour modes",
        },
        {
            trigger: '.ui-menu-item a:contains("Tour modes scenario")',
            run: "click",
        },
        {
            trigger: 'button[name="action_next"]',
            run: "click",
        },
        {
            content: "Fetch: one line per invoice the modes make",
            trigger: 'button[name="action_fetch"]',
            run: "click",
        },
        checkRows(LINES, "One Invoice per Shipment", 3),
        checkRows(LINES, "One Batch Invoice per Period", 1),
        checkRows(LINES, "One Invoice per Order", 2),
        checkRows(LINES, "Head Office Ltd", 1),
        checkRows(LINES, "One Invoice per Site, to the Head Office", 2),
        {
            content: "The delivery of an earlier period is fetched and marked late",
            trigger: `${LINES}:contains("Late Co") td[name="is_late"] input:checked`,
        },
        {
            content: "Preview the head office's consolidated invoice",
            trigger: `${LINES}:contains("Head Office Ltd") button[name="action_open_preview"]`,
            run: "click",
        },
        checkRows('.modal .o_field_widget[name="item_ids"] .o_data_row', "Site", 2),
        checkRows('.modal .o_field_widget[name="item_ids"] .o_data_row', "North Site", 1),
        {
            content: "Close the preview",
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            content: "Process all invoices",
            trigger: '.o_form_view:not(:has(.modal)) button[name="action_open_process_wizard"]',
            run: "click",
        },
        {
            content: "Confirm: one invoice per line",
            trigger: '.modal .o_billing_process_summary:contains("Invoices to create: 6")',
        },
        {
            trigger: '.modal button[name="action_process"]',
            run: "click",
        },
        {
            content: "The scheduler processes the run",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Processed")',
            timeout: 30000,
        },
        checkRows(LINES, "Processed", 6),
    ],
});
