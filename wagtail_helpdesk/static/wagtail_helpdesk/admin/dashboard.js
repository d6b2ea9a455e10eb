/*
 * Supervisors' dashboard: reload the figures every minute (Stimulus
 * controller "helpdesk-dashboard", registered with Wagtail's own Stimulus app).
 *
 * Asks for the same URL with the fragment header and, for every "part" target,
 * swaps its content for the one of the element with the same data-refresh-key
 * in the answer. Panels, the office filter and an open table keep their state.
 * Skips the refresh while the tab is hidden and catches up when it is shown
 * again. Without JavaScript the "Refresh" link does the same.
 *
 * <div data-controller="helpdesk-dashboard"
 *      data-helpdesk-dashboard-refresh-seconds-value="60"
 *      data-helpdesk-dashboard-header-value="X-Helpdesk-Fragment">
 *   <ul data-helpdesk-dashboard-target="part" data-refresh-key="tiles">…</ul>
 * </div>
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    class DashboardController extends stimulus.Controller {
        static targets = ['part'];

        static values = {
            /** The request header that asks for the figures alone. */
            header: String,
            /** Seconds between two refreshes. */
            refreshSeconds: { type: Number, default: 60 },
        };

        initialize() {
            this.refresh = this.refresh.bind(this);
            this.resume = this.resume.bind(this);
        }

        connect() {
            this.last = Date.now();
            this.busy = false;
            this.timer = window.setInterval(this.refresh, this.period);
            document.addEventListener('visibilitychange', this.resume);
        }

        disconnect() {
            window.clearInterval(this.timer);
            document.removeEventListener('visibilitychange', this.resume);
        }

        get period() {
            return (this.refreshSecondsValue || 60) * 1000;
        }

        /** The tab is shown again: catch up if a refresh was skipped. */
        resume() {
            if (!document.hidden && Date.now() - this.last >= this.period) this.refresh();
        }

        refresh() {
            if (this.busy || document.hidden) return;
            this.busy = true;
            this.element.setAttribute('aria-busy', 'true');
            fetch(window.location.href, {
                headers: { [this.headerValue]: '1' },
                credentials: 'same-origin',
                cache: 'no-store',
            })
                .then((response) => {
                    if (!response.ok) throw new Error(response.status);
                    return response.text();
                })
                .then((html) => {
                    const fresh = new DOMParser().parseFromString(html, 'text/html');
                    this.partTargets.forEach((part) => {
                        const key = part.dataset.refreshKey;
                        const source = fresh.querySelector(`[data-refresh-key="${key}"]`);
                        if (source) part.innerHTML = source.innerHTML;
                    });
                    this.last = Date.now();
                })
                .catch(() => {
                    /* Keep the figures on screen; the next tick tries again. */
                })
                .finally(() => {
                    this.busy = false;
                    this.element.removeAttribute('aria-busy');
                });
        }
    }

    app.register('helpdesk-dashboard', DashboardController);
})();
