/*
 * The admin's self-refreshing pages: one Stimulus controller class, shared by
 * the supervisors' dashboard ("helpdesk-dashboard", registered here: figures
 * every minute) and the Overviews page ("helpdesk-overviews", registered by
 * overviews.js with this same class, which it finds as
 * window.HelpdeskRefreshController: load this file first).
 *
 * Asks for the same URL (with the fragment header, when given) and, for
 * every "part" target, swaps its content for the one of the element with the
 * same data-refresh-key in the answer. Panels, filters and an open table keep
 * their state. Skips the refresh while the tab is hidden and catches up when
 * it is shown again. Without JavaScript the "Refresh" link does the same.
 *
 * Optional stop rules (none by default: the dashboard refreshes forever):
 *  - while-selector: stop, quietly, once no element matches it after a
 *    refresh (e.g. nothing is being generated any more);
 *  - max-seconds: stop after this long;
 *  - idle-seconds: stop when no part changed for this long.
 * When it stops by time, the "stopped" targets are shown (they say so).
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

    /** A part's content as compared between refreshes: its HTML without the
     * CSRF tokens (masked differently in every answer). */
    const signature = (node) => {
        const copy = node.cloneNode(true);
        copy.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach((input) => {
            input.removeAttribute('value');
        });
        return copy.innerHTML;
    };

    class RefreshController extends stimulus.Controller {
        static targets = ['part', 'stopped'];

        static values = {
            /** The request header that asks for the parts alone ('' : none). */
            header: String,
            /** Seconds between two refreshes. */
            refreshSeconds: { type: Number, default: 60 },
            /** Stop once nothing matches this selector ('' : never). */
            whileSelector: String,
            /** Stop after this many seconds (0: never). */
            maxSeconds: { type: Number, default: 0 },
            /** Stop after this many seconds without a change (0: never). */
            idleSeconds: { type: Number, default: 0 },
        };

        initialize() {
            this.refresh = this.refresh.bind(this);
            this.resume = this.resume.bind(this);
        }

        connect() {
            this.started = Date.now();
            this.last = this.started;
            this.changed = this.started;
            this.busy = false;
            this.stopped = false;
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

        /** Stop refreshing; ``announce``: show the "stopped" targets. */
        stop(announce) {
            this.stopped = true;
            this.disconnect();
            if (announce) {
                this.stoppedTargets.forEach((target) => {
                    target.hidden = false;
                });
            }
        }

        /** After a refresh: stop when a stop rule says so. */
        check() {
            const now = Date.now();
            if (this.whileSelectorValue && !this.element.querySelector(this.whileSelectorValue)) {
                this.stop(false);
            } else if (this.maxSecondsValue && now - this.started >= this.maxSecondsValue * 1000) {
                this.stop(true);
            } else if (this.idleSecondsValue && now - this.changed >= this.idleSecondsValue * 1000) {
                this.stop(true);
            }
        }

        refresh() {
            if (this.busy || this.stopped || document.hidden) return;
            this.busy = true;
            this.element.setAttribute('aria-busy', 'true');
            const headers = this.headerValue ? { [this.headerValue]: '1' } : {};
            fetch(window.location.href, { headers, credentials: 'same-origin', cache: 'no-store' })
                .then((response) => {
                    if (!response.ok) throw new Error(response.status);
                    return response.text();
                })
                .then((html) => {
                    const fresh = new DOMParser().parseFromString(html, 'text/html');
                    this.partTargets.forEach((part) => {
                        const key = part.dataset.refreshKey;
                        const source = fresh.querySelector(`[data-refresh-key="${key}"]`);
                        if (!source) return;
                        if (signature(source) !== signature(part)) this.changed = Date.now();
                        part.innerHTML = source.innerHTML;
                    });
                    this.last = Date.now();
                })
                .catch(() => {
                    /* Keep what is on screen; the next tick tries again. */
                })
                .finally(() => {
                    this.busy = false;
                    this.element.removeAttribute('aria-busy');
                    if (!this.stopped) this.check();
                });
        }
    }

    window.HelpdeskRefreshController = RefreshController;
    app.register('helpdesk-dashboard', RefreshController);
})();
