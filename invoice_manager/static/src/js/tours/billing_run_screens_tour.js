/** @odoo-module */

import {registry} from "@web/core/registry";

const LINE_CARDS = '.o_field_widget[name="line_ids"] .o_kanban_record:not(.o_kanban_ghost)';

function noSidewaysScroll(where) {
    return {
        content: `${where}: no horizontal scroll on a phone`,
        trigger: "body",
        run() {
            const page = document.documentElement;
            if (page.scrollWidth > window.innerWidth + 1) {
                throw new Error(
                    `${where} scrolls sideways: ${page.scrollWidth}px wide in ${window.innerWidth}px`
                );
            }
        },
    };
}

function noBreadcrumbBefore(what) {
    return {
        content: `${what} opens with a clean trail`,
        trigger: ".o_breadcrumb",
        run() {
            const before = document.querySelectorAll(".o_breadcrumb .breadcrumb-item");
            if (before.length) {
                throw new Error(
                    `Trail before ${what}: ${[...before].map((b) => b.textContent).join(" / ")}`
                );
            }
        },
    };
}

// Billing Runs > New Run: the wizard, Next, a run alone in the trail; a fetch
// that finds nothing says so.
registry.category("web_tour.tours").add("billing_run_new_tour", {
    steps: () => [
        {
            content: "The runs list offers New Run (not a blank run form)",
            trigger: '.o_list_view button:contains("New Run")',
            run: "click",
        },
        {
            content: "It opens the Invoice Manager's first step",
            trigger: '.modal .o_field_widget[name="scenario_id"] input',
            run: "edit Screens empty",
        },
        {
            trigger: '.ui-menu-item a:contains("Screens empty scenario")',
            run: "click",
        },
        {
            trigger: '.modal button[name="action_next"]',
            run: "click",
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Billing Rules")',
        },
        noBreadcrumbBefore("the new run"),
        {
            content: "The form has no New: runs start from the wizard",
            trigger: ".o_form_view",
            run() {
                if (document.querySelector(".o_control_panel .o_form_button_create")) {
                    throw new Error("The run form offers New");
                }
            },
        },
        {
            trigger: 'button[name="action_fetch"]',
            run: "click",
        },
        {
            content: "Nothing to bill is said in words",
            trigger: '.alert[name="nothing_fetched"]:contains("No sale to invoice for this period")',
        },
    ],
});

// A processed run: counters as filters, the errors counter red only when
// there are errors, queued emails and who may send them now.
registry.category("web_tour.tours").add("billing_run_counters_tour", {
    steps: () => [
        {
            content: "Emails waiting in the mail queue are announced",
            trigger: '.alert[name="queued_emails"]:contains("Emails waiting in Odoo\'s mail queue")',
        },
        {
            content: "One error: its counter is a red link",
            trigger: 'div[name="counters"] button.text-danger:contains("Errors"):contains("1")',
            run: "click",
        },
        {
            content: "It lists the run's lines in error, filtered (a phone folds the facets)",
            trigger:
                '.o_searchview .o_facet_value:contains("Errors"), .o_kanban_view .o_kanban_record',
        },
        {
            trigger:
                '.o_data_row:contains("Beta Works"):contains("Error"), .o_kanban_record:contains("Beta Works"):contains("Error")',
        },
        {
            content: "and only those (rows on a desktop, cards on a phone)",
            trigger: ".o_list_view, .o_kanban_view",
            run() {
                const rows = document.querySelectorAll(
                    ".o_list_view .o_data_row, .o_kanban_view .o_kanban_record:not(.o_kanban_ghost)"
                );
                if (rows.length !== 1) {
                    throw new Error(`Expected 1 line in error, found ${rows.length}`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("billing_run_send_now_tour", {
    steps: () => [
        {
            content: "A Billing Manager may send the mail queue now",
            trigger: '.alert[name="queued_emails"] button[name="action_send_queued_emails"]',
            run: "click",
        },
        {
            trigger: '.alert[name="queued_emails"]',
        },
    ],
});

registry.category("web_tour.tours").add("billing_run_no_send_now_tour", {
    steps: () => [
        {
            content: "A Billing User sees the queue's next run, not Send Now",
            trigger: '.alert[name="queued_emails"]:not(:has(button[name="action_send_queued_emails"]))',
        },
    ],
});

// 390 px: the runs and their lines as cards.
registry.category("web_tour.tours").add("billing_run_phone_tour", {
    steps: () => [
        {
            content: "The page is a phone's 390 px wide",
            trigger: "body",
            run() {
                if (window.innerWidth !== 390) {
                    throw new Error(`The page is ${window.innerWidth}px wide, not 390px`);
                }
            },
        },
        {
            content: "Runs show as cards",
            trigger: '.o_kanban_record:contains("Screens monthly scenario"):contains("Invoices: 2")',
        },
        noSidewaysScroll("The runs"),
        {
            trigger: '.o_kanban_record:contains("Screens monthly scenario")',
            run: "click",
        },
        {
            content: "A line's card: customer, amount, state and message",
            trigger: `${LINE_CARDS}:contains("Beta Works"):contains("Error"):contains("email")`,
        },
        {
            trigger: `${LINE_CARDS}:contains("Alpha Retail"):contains("Processed"):contains("115.00")`,
        },
        noSidewaysScroll("The run"),
    ],
});

// A site's form: the mode that applies, and where it comes from; the head
// office's form lists its sites.
registry.category("web_tour.tours").add("billing_site_mode_tour", {
    steps: () => [
        {
            content: "Open the Sales & Purchase tab",
            trigger: '.o_notebook .nav-link:contains("Sales & Purchase")',
            run: "click",
        },
        {
            content: "The site shows its head office's batch mode, not its own",
            trigger:
                'div[name="billing_applied_mode"]:contains("One Batch Invoice per Period"):contains("Weekly"):contains("its head office Screens HQ")',
        },
        {
            trigger: '.o_form_view:not(:has(.o_field_widget[name="billing_invoicing_mode"]))',
        },
        {
            content: "Open the head office",
            trigger: '.o_field_widget[name="head_office_id"] .o_form_uri, .o_field_widget[name="head_office_id"] a',
            run: "click",
        },
        {
            trigger: '.o_notebook .nav-link:contains("Sales & Purchase")',
            run: "click",
        },
        {
            content: "The head office lists its sites",
            trigger: '.o_field_widget[name="site_ids"]:contains("Screens Site")',
        },
        {
            trigger: '.o_field_widget[name="billing_invoicing_mode"]',
        },
    ],
});

registry.category("web_tour.tours").add("billing_left_to_bill_tour", {
    steps: () => [
        {
            content: "Left to Bill: what is still to invoice, per billed customer and mode",
            trigger: '.o_pivot .o_pivot_header_cell_closed:contains("Screens HQ"), .o_pivot th:contains("Screens HQ")',
        },
        {
            trigger: '.o_pivot th:contains("One Batch Invoice per Period")',
        },
    ],
});

registry.category("web_tour.tours").add("billing_overview_tour", {
    steps: () => [
        {
            content: "The overview says the scenario's last closed period is not billed",
            trigger:
                '.o_kanban_record:contains("Screens monthly scenario"):has(.o_billing_overview_due:visible)',
        },
        {
            content: "and how many lines are left in error",
            trigger:
                '.o_kanban_record:contains("Screens monthly scenario") button[name="action_view_error_lines"]:contains("Lines in error: 1")',
            run: "click",
        },
        {
            trigger: '.o_data_row:contains("Beta Works"), .o_kanban_record:contains("Beta Works")',
        },
    ],
});

// Process asks first, on a desktop and on a phone: Cancel leaves the run as it was.
registry.category("web_tour.tours").add("billing_run_confirm_tour", {
    steps: () => [
        {
            content: "A phone folds the form's buttons into the gear menu",
            trigger: ".o_form_view",
            run() {
                if (!document.querySelector('button[name="action_open_process_wizard"]')) {
                    document.querySelector(".o_cp_action_menus button").click();
                }
            },
        },
        {
            trigger:
                'button[name="action_open_process_wizard"], .dropdown-item:contains("Process Invoices")',
            run: "click",
        },
        {
            content: "What Process will do, before it does it",
            trigger:
                '.modal .o_billing_process_summary:contains("Total to invoice: $"):contains("Invoices to create: 2"):contains("Posted: 2"):contains("Emailed: 2"):contains("mail queue")',
        },
        {
            trigger: '.modal button:contains("Cancel")',
            run: "click",
        },
        {
            content: "Cancelled: the run is still at its billing rules",
            trigger:
                'body:not(:has(.modal)) .o_statusbar_status button.o_arrow_button_current:contains("Billing Rules")',
        },
    ],
});

function clickHeaderButton(name, label) {
    // A phone folds the form's header buttons into the gear menu.
    return [
        {
            content: `${label}: open the gear menu on a phone`,
            trigger: ".o_form_view",
            run() {
                if (!document.querySelector(`button[name="${name}"]`)) {
                    document.querySelector(".o_cp_action_menus button").click();
                }
            },
        },
        {
            content: label,
            trigger: `button[name="${name}"], .dropdown-item:contains("${label}")`,
            run: "click",
        },
    ];
}

// The two steps on a phone, from the Invoice Manager's action.
registry.category("web_tour.tours").add("invoice_manager_phone_tour", {
    steps: () => [
        {
            content: "Step 1: pick the billing scenario (a phone opens a search dialog)",
            trigger: '.modal .o_field_widget[name="scenario_id"] input',
            run: "click",
        },
        {
            trigger:
                '.modal .o_kanban_record:contains("Tour monthly scenario"), .modal .o_data_row:contains("Tour monthly scenario"), .ui-menu-item a:contains("Tour monthly scenario")',
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="scenario_id"] :contains("Tour monthly scenario"), .modal .o_field_widget[name="scenario_id"] input:value("Tour monthly scenario")',
        },
        {
            trigger: '.modal button[name="action_next"]',
            run: "click",
        },
        ...clickHeaderButton("action_fetch", "Fetch Sales"),
        {
            content: "Step 2: the sales fetched, as cards",
            trigger: `${LINE_CARDS}:contains("Alpha Retail"):contains("Not Done")`,
        },
        noSidewaysScroll("The run"),
        ...clickHeaderButton("action_open_process_wizard", "Process Invoices"),
        {
            trigger: '.modal .o_billing_process_summary:contains("Invoices to create: 2")',
        },
        {
            trigger: '.modal button[name="action_process"]',
            run: "click",
        },
        {
            content: "Processed by the scheduler, the cards say so",
            trigger: `${LINE_CARDS}:contains("Alpha Retail"):contains("Processed")`,
            timeout: 30000,
        },
    ],
});
