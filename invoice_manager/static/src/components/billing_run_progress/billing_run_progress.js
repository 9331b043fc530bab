import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {standardFieldProps} from "@web/views/fields/standard_field_props";
import {Component, onWillUnmount, useState} from "@odoo/owl";

/**
 * The progress of a billing run being processed: lines invoiced and lines done
 * (sent, printed or only created), each against the run's lines. The executor
 * pushes the counts over the bus after each chunk ("billing_run_progress"); the
 * form is reloaded once, when the run's state changes. When nothing is pushed
 * for a while (no bus connection), the form is reloaded at that pace instead.
 */
export class BillingRunProgressField extends Component {
    static template = "invoice_manager.BillingRunProgressField";
    static props = {...standardFieldProps};
    static fallbackInterval = 10000;

    setup() {
        this.bus = useService("bus_service");
        this.state = useState({pushed: null});
        this.lastPush = Date.now();
        this.onProgress = (values) => this.receive(values);
        this.bus.subscribe("billing_run_progress", this.onProgress);
        this.timer = setInterval(
            () => this.fallback(),
            this.constructor.fallbackInterval
        );
        onWillUnmount(() => {
            clearInterval(this.timer);
            this.bus.unsubscribe("billing_run_progress", this.onProgress);
        });
    }

    get values() {
        const pushed = this.state.pushed;
        if (pushed && pushed.id === this.props.record.resId) {
            return pushed;
        }
        const data = this.props.record.data;
        return {
            line_count: data.line_count,
            invoiced_line_count: data.invoiced_line_count,
            done_count: data.done_count,
        };
    }

    percent(count) {
        const total = this.values.line_count;
        return total ? Math.round((100 * count) / total) : 0;
    }

    async receive(values) {
        const record = this.props.record;
        if (values.id !== record.resId) {
            return;
        }
        this.lastPush = Date.now();
        this.state.pushed = values;
        if (values.state !== record.data.state && !record.dirty) {
            await record.load();
            this.state.pushed = null;
        }
    }

    async fallback() {
        const record = this.props.record;
        const silentFor = Date.now() - this.lastPush;
        if (
            record.data.state !== "processing" ||
            record.dirty ||
            silentFor < this.constructor.fallbackInterval
        ) {
            return;
        }
        await record.load();
        this.state.pushed = null;
    }
}

registry.category("fields").add("billing_run_progress", {
    component: BillingRunProgressField,
    supportedTypes: ["integer"],
    relatedFields: [],
});
