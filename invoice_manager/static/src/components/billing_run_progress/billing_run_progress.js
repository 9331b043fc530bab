import {registry} from "@web/core/registry";
import {
    ProgressBarField,
    progressBarField,
} from "@web/views/fields/progress_bar/progress_bar_field";
import {onWillUnmount} from "@odoo/owl";

/**
 * The progress bar of a billing run being processed by Odoo's scheduler: it
 * reloads the run every few seconds while the run is processing, so the bar,
 * the counts and the lines show what the workers committed.
 */
export class BillingRunProgressField extends ProgressBarField {
    static interval = 2000;

    setup() {
        super.setup();
        this.timer = setInterval(() => this.refresh(), this.constructor.interval);
        onWillUnmount(() => clearInterval(this.timer));
    }

    async refresh() {
        const record = this.props.record;
        if (record.data.state !== "processing" || record.dirty) {
            return;
        }
        await record.load();
    }
}

registry.category("fields").add("billing_run_progress", {
    ...progressBarField,
    component: BillingRunProgressField,
});
