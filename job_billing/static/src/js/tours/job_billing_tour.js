/** @odoo-module */

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("job_billing_tour", {
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
            content: "Invoicing - New: jobs with something to bill",
            trigger:
                '.o-dropdown-item[data-menu-xmlid="job_billing.menu_billing_job_invoicing_new_account"]',
            run: "click",
        },
        {
            content: "Open the job",
            trigger: '.o_data_row:contains("Tour Heating Customer") td[name="partner_id"]',
            run: "click",
        },
        {
            content: "The job card shows its suggested price",
            trigger: '.o_field_widget[name="suggested_price"]:contains("10,000.00")',
        },
        {
            content: "Generate Invoice",
            trigger: 'button[name="action_generate_invoice"]',
            run: "click",
        },
        {
            content: "Confirm the generation",
            trigger: '.modal-footer .btn-primary',
            run: "click",
        },
        {
            content: "Choose the Deposit policy",
            trigger: '.modal .o_field_widget[name="policy"] select',
            run: "selectByLabel Deposit",
        },
        {
            content: "30 % of the job price",
            trigger: '.modal .o_field_widget[name="percent"] input',
            run: "edit 30 && press Tab",
        },
        {
            content: "The wizard previews the untaxed amount",
            trigger: '.modal .o_field_widget[name="amount_preview"]:contains("3,000.00")',
        },
        {
            content: "Create the invoice",
            trigger: '.modal button[name="action_create_invoice"]',
            run: "click",
        },
        {
            content: "The invoice says it has been created",
            trigger: '.o_notification:contains("has been created successfully")',
        },
        {
            content: "The draft invoice of the job opens",
            trigger: '.o_form_view .o_field_widget[name="job_invoice_policy"]:contains("Deposit")',
        },
        {
            content: "Its job invoice status reads Draft, not Invoiced",
            trigger: '.o_form_view .o_field_widget[name="job_workflow_state"]:contains("Draft")',
        },
        {
            content: "The share of the job invoiced is a percentage",
            trigger: '.o_form_view div[name="job_progress_percent"]:contains("%")',
        },
    ],
});
