/** @odoo-module */

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("job_billing_invoice_journal_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Invoicing",
            trigger: '.o_app[data-menu-xmlid="account.menu_finance"]',
            run: "click",
        },
        {
            content: "Open the Job Billing menu",
            trigger: '.o_menu_sections [data-menu-xmlid="job_billing.menu_job_billing_account"]',
            run: "click",
        },
        {
            content: "Invoice Journal",
            trigger:
                '.o-dropdown-item[data-menu-xmlid="job_billing.menu_billing_job_invoice_journal"]',
            run: "click",
        },
        {
            content: "The dialog opens on the previous month",
            trigger: '.modal .o_field_widget[name="date_from"] input:value(/\\d/)',
        },
        {
            content: "The end date is filled too",
            trigger: '.modal .o_field_widget[name="date_to"] input:value(/\\d/)',
        },
        {
            content: "Download the journal",
            trigger: '.modal button[name="action_generate"]',
            run: "click",
        },
        {
            content: "The download closes the dialog",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// On a phone, from the journal's action: the same dialog, no sideways scroll.
registry.category("web_tour.tours").add("job_billing_invoice_journal_phone_tour", {
    steps: () => [
        {
            content: "The page is a phone's 390 px wide",
            trigger: '.modal .o_field_widget[name="date_from"] input:value(/\\d/)',
            run() {
                if (window.innerWidth !== 390) {
                    throw new Error(`The page is ${window.innerWidth}px wide, not 390px`);
                }
                if (document.documentElement.scrollWidth > window.innerWidth + 1) {
                    throw new Error("The journal dialog scrolls sideways");
                }
            },
        },
        {
            trigger: '.modal .o_field_widget[name="date_to"] input:value(/\\d/)',
        },
        {
            trigger: '.modal button[name="action_generate"]',
            run: "click",
        },
        {
            content: "The download closes the dialog",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
