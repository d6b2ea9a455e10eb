/*
 * The operator's heartbeat (Stimulus controller "helpdesk-presence",
 * registered with Wagtail's own Stimulus app).
 *
 * Every admin page an operator keeps open tells the helpdesk, once a minute,
 * that they are still there: that is what keeps an automatic status
 * "available". Nothing is sent while the tab is hidden; a beat is sent when
 * the page opens and when the tab is shown again. wagtail_hooks.py puts the
 * element on every admin page, with the URL and interval of the server.
 *
 * <div hidden data-controller="helpdesk-presence"
 *      data-helpdesk-presence-url-value="/admin/helpdesk/presence/heartbeat/"
 *      data-helpdesk-presence-interval-value="60000"></div>
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    /** Wagtail's CSRF token, from the admin's configuration. */
    const csrfToken = () => {
        const config = document.getElementById('wagtail-config');
        try {
            return config ? JSON.parse(config.textContent).CSRF_TOKEN : '';
        } catch (error) {
            return '';
        }
    };

    class PresenceController extends stimulus.Controller {
        static values = {
            /** The heartbeat URL (POST, answers 204). */
            url: String,
            /** Milliseconds between two beats. */
            interval: { type: Number, default: 60000 },
        };

        initialize() {
            this.beat = this.beat.bind(this);
            this.resume = this.resume.bind(this);
        }

        connect() {
            this.timer = window.setInterval(this.beat, this.intervalValue || 60000);
            document.addEventListener('visibilitychange', this.resume);
            this.beat();
        }

        disconnect() {
            window.clearInterval(this.timer);
            document.removeEventListener('visibilitychange', this.resume);
        }

        /** The tab is shown again: say so at once. */
        resume() {
            if (!document.hidden) this.beat();
        }

        beat() {
            if (document.hidden) return;
            fetch(this.urlValue, {
                method: 'POST',
                credentials: 'same-origin',
                headers: { 'X-CSRFToken': csrfToken() },
            }).catch(() => {
                /* The next beat tries again. */
            });
        }
    }

    app.register('helpdesk-presence', PresenceController);
})();
