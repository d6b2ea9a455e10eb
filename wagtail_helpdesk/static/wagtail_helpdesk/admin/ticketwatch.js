/*
 * Who else has the ticket open, and whether it changed since the page was
 * loaded (Stimulus controller "helpdesk-ticket-watch", registered with
 * Wagtail's own Stimulus app).
 *
 * Every few seconds asks the ticket's viewers/ URL and shows both in the
 * element, a live region. Nothing is asked while the tab is hidden; it asks at
 * once when the tab is shown again. The page works without it: it lists the
 * colleagues seen when it was rendered.
 *
 * <div aria-live="polite" data-controller="helpdesk-ticket-watch"
 *      data-helpdesk-ticket-watch-url-value="/admin/helpdesk/tickets/1/viewers/"
 *      data-helpdesk-ticket-watch-version-value="3"
 *      data-helpdesk-ticket-watch-interval-value="15000">
 *   <p data-helpdesk-ticket-watch-target="viewers" hidden>
 *     Also on this ticket now: <strong data-helpdesk-ticket-watch-target="names"></strong>
 *   </p>
 *   <p data-helpdesk-ticket-watch-target="changed" hidden>Someone else changed it…</p>
 * </div>
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    class TicketWatchController extends stimulus.Controller {
        static targets = ['viewers', 'names', 'changed'];

        static values = {
            /** The ticket's viewers/ URL (JSON: viewers, version, changed). */
            url: String,
            /** The ticket's version when the page was rendered. */
            version: Number,
            /** Milliseconds between two requests. */
            interval: { type: Number, default: 15000 },
        };

        initialize() {
            this.poll = this.poll.bind(this);
            this.resume = this.resume.bind(this);
        }

        connect() {
            this.timer = window.setInterval(this.poll, this.intervalValue || 15000);
            document.addEventListener('visibilitychange', this.resume);
        }

        disconnect() {
            window.clearInterval(this.timer);
            document.removeEventListener('visibilitychange', this.resume);
        }

        /** The tab is shown again: ask at once. */
        resume() {
            if (!document.hidden) this.poll();
        }

        poll() {
            if (document.hidden) return;
            fetch(`${this.urlValue}?version=${encodeURIComponent(this.versionValue)}`, {
                credentials: 'same-origin',
                headers: { Accept: 'application/json' },
            })
                .then((response) => (response.ok ? response.json() : null))
                .then((data) => {
                    if (data) this.show(data);
                })
                .catch(() => {
                    /* The next tick tries again. */
                });
        }

        show(data) {
            const names = (data.viewers || []).join(', ');
            // Only touch the live region when something changed.
            if (this.namesTarget.textContent !== names) this.namesTarget.textContent = names;
            this.viewersTarget.hidden = !names;
            if (data.changed) this.changedTarget.hidden = false;
        }
    }

    app.register('helpdesk-ticket-watch', TicketWatchController);
})();
