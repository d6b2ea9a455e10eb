/*
 * The live ticket list's Stimulus controllers, registered with Wagtail's app:
 * "helpdesk-live" (the element admin/live.py puts on every admin page: the
 * Helpdesk menu's label, the news of a new pending ticket) and
 * "helpdesk-live-list" (the ticket list: refresh on a change, the "N new
 * changes" button, the dot on the Pending tab, the sound switch).
 *
 * They listen to the browser's live hub (livehub.js, window.HelpdeskLive,
 * loaded first): its pulses carry the change stamp and the figures. A new
 * pending ticket plays a short tone in one tab if the sound is on
 * (localStorage), and is announced there (role="status"); the Pending queue
 * tab shows a dot until it is opened.
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    const REFRESH_AFTER = 600; // ms: pulses within this time make one refresh of the list

    const format = (template, values) =>
        template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));

    /** A short two-note tone, generated (no audio file); shared with chatnotify.js. */
    const HelpdeskTone = {
        context: null,
        play() {
            const Context = window.AudioContext || window.webkitAudioContext;
            if (!Context) return;
            try {
                this.context = this.context || new Context();
                const ctx = this.context;
                if (ctx.state === 'suspended') ctx.resume();
                [[880, 0], [1320, 0.18]].forEach(([frequency, start]) => {
                    const oscillator = ctx.createOscillator();
                    const gain = ctx.createGain();
                    oscillator.type = 'sine';
                    oscillator.frequency.value = frequency;
                    const t = ctx.currentTime + start;
                    gain.gain.setValueAtTime(0.0001, t);
                    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
                    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
                    oscillator.connect(gain).connect(ctx.destination);
                    oscillator.start(t);
                    oscillator.stop(t + 0.17);
                });
                window.dispatchEvent(new CustomEvent('helpdesk:tone'));
            } catch (error) {
                /* no sound: the notice is there */
            }
        },
    };
    window.HelpdeskTone = window.HelpdeskTone || HelpdeskTone;

    const hub = window.HelpdeskLive;
    if (!hub || !stimulus || !app) return;
    const { local, keys } = hub;

    /** The element on every admin page: starts the hub, keeps the menu's label. */
    class LiveController extends stimulus.Controller {
        static targets = ['status'];

        static values = { pulse: String, socket: String, defaultQueue: String, newPending: String };

        connect() {
            this.element.dataset.liveState = 'starting';
            this.unlisten = hub.listen(this);
        }

        disconnect() {
            if (this.unlisten) this.unlisten();
        }

        pulse(data) {
            this.element.dataset.liveState = hub.state.open ? 'socket'
                : (hub.state.polling ? 'polling' : 'ready');
            this.menu(data.menu);
        }

        menu(menu) {
            if (!menu) return;
            document.querySelectorAll('.sidebar-menu-item__link .menuitem-label').forEach((el) => {
                const text = el.textContent.trim();
                if (text === menu.base || text.startsWith(`${menu.base} (`)) {
                    if (text !== menu.label) el.textContent = menu.label;
                }
            });
        }

        news(m, mine) {
            if (!mine) return;
            this.say(this.newPendingValue);
            if (local.get(keys.sound) === 'on') window.HelpdeskTone.play();
        }

        say(text) {
            if (!this.hasStatusTarget) return;
            // Emptied first, so that the same words are announced again.
            this.statusTarget.textContent = '';
            window.setTimeout(() => { this.statusTarget.textContent = text; }, 50);
        }

        stopped() {
            this.element.dataset.liveState = 'stopped';
        }
    }

    /** The ticket list: refresh on a change, the "N new changes" button, the dot, the sound. */
    class LiveListController extends stimulus.Controller {
        static targets = ['sound', 'refresh', 'status'];

        static values = {
            results: String,
            defaultQueue: { type: String, default: 'pending' },
            one: String,
            many: String,
            updated: String,
            dot: String,
        };

        connect() {
            this.stamp = null;
            this.changes = 0;
            this.sound = local.get(keys.sound) === 'on';
            if (this.hasSoundTarget) this.soundTarget.checked = this.sound;
            const element = document.querySelector('[data-controller~="helpdesk-live"]');
            this.defaultQueue = (element && element.dataset.helpdeskLiveDefaultQueueValue)
                || this.defaultQueueValue;
            this.queue = new URLSearchParams(window.location.search).get('queue')
                || this.defaultQueue;
            this.swapped = () => this.dot();
            document.addEventListener('w-swap:success', this.swapped);
            this.unlisten = hub.listen(this);
            hub.ask(); // the stamp of the list as it is now
        }

        disconnect() {
            document.removeEventListener('w-swap:success', this.swapped);
            if (this.unlisten) this.unlisten();
            window.clearTimeout(this.timer);
        }

        toggleSound() {
            this.sound = this.soundTarget.checked;
            local.set(keys.sound, this.sound ? 'on' : 'off');
            if (this.sound) window.HelpdeskTone.play(); // the click allows the audio to start
        }

        signal() {
            this.element.dataset.signals = String(Number(this.element.dataset.signals || 0) + 1);
        }

        pulse(data) {
            this.newest = Number(data.newest_pending || 0);
            this.dot();
            if (this.stamp === null) {
                this.stamp = data.stamp;
                this.element.dataset.liveStamp = this.stamp;
                return;
            }
            if (data.stamp === this.stamp) return;
            this.stamp = data.stamp;
            this.element.dataset.liveStamp = this.stamp;
            this.changes += 1;
            if (this.busy()) this.offer();
            else {
                window.clearTimeout(this.timer);
                this.timer = window.setTimeout(() => this.refresh(), REFRESH_AFTER);
            }
        }

        get results() {
            return document.getElementById('listing-results');
        }

        /** Ticked bulk checkboxes, typing, or the focus in the list: not now. */
        busy() {
            const results = this.results;
            if (!results) return true;
            if (results.querySelector('[data-bulk-action-checkbox]:checked,'
                + ' [data-bulk-action-select-all-checkbox]:checked, details[open]')) return true;
            const active = document.activeElement;
            if (!active || active === document.body) return false;
            if (active.matches('textarea, select, [contenteditable=""], [contenteditable="true"],'
                + ' input:not([type="checkbox"]):not([type="radio"]):not([type="button"])'
                + ':not([type="submit"]):not([type="reset"])')) return true;
            if (results.contains(active)) return true;
            return Boolean(document.querySelector('.w-slim-header [aria-expanded="true"]'));
        }

        offer() {
            if (!this.hasRefreshTarget) return;
            const template = this.changes === 1 ? this.oneValue : this.manyValue;
            this.refreshTarget.textContent = format(template, { count: this.changes });
            this.refreshTarget.hidden = false;
        }

        refreshNow() {
            window.clearTimeout(this.timer);
            this.refresh(true);
        }

        async refresh(asked = false) {
            const results = this.results;
            if (!results || (!asked && this.busy())) {
                this.offer();
                return;
            }
            const url = this.resultsValue + window.location.search;
            try {
                const response = await fetch(url, {
                    credentials: 'same-origin',
                    headers: { 'x-requested-with': 'XMLHttpRequest' },
                });
                if (!response.ok || response.redirected) return;
                const html = await response.text();
                if (!asked && this.busy()) { // the operator started something meanwhile
                    this.offer();
                    return;
                }
                const template = document.createElement('template');
                template.innerHTML = html;
                // Wagtail's "N matches" alert would be read out on every refresh.
                template.content.querySelectorAll('[role="alert"]')
                    .forEach((el) => el.removeAttribute('role'));
                results.replaceChildren(template.content);
                this.changes = 0;
                if (this.hasRefreshTarget) this.refreshTarget.hidden = true;
                results.dispatchEvent(new CustomEvent('w-swap:success', {
                    bubbles: true, detail: { requestUrl: url, results: html } }));
                this.element.dataset.refreshed = String(Number(this.element.dataset.refreshed || 0) + 1);
                this.say(this.updatedValue);
                if (asked) results.focus({ preventScroll: true });
            } catch (error) {
                this.offer();
            }
        }

        /** The dot on the Pending queue's tab: newer pending tickets than seen there. */
        dot() {
            if (this.newest === undefined) return;
            if (this.queue === 'pending') {
                local.set(keys.seen, String(this.newest));
                return;
            }
            const seen = Number(local.get(keys.seen) || 0);
            const tab = [...document.querySelectorAll('#listing-results a.w-tabs__tab')].find(
                (a) => (new URL(a.href, window.location.href).searchParams.get('queue')
                    || this.defaultQueue) === 'pending');
            if (!tab) return;
            let dot = tab.querySelector('.helpdesk-live-dot');
            if (this.newest > seen) {
                if (!dot) {
                    dot = document.createElement('span');
                    dot.className = 'helpdesk-live-dot';
                    const mark = document.createElement('span');
                    mark.className = 'helpdesk-live-dot__mark';
                    mark.setAttribute('aria-hidden', 'true');
                    const text = document.createElement('span');
                    text.className = 'w-sr-only';
                    text.textContent = this.dotValue;
                    dot.append(mark, text);
                    tab.append(dot);
                    tab.title = this.dotValue;
                }
            } else if (dot) {
                dot.remove();
                tab.removeAttribute('title');
            }
        }

        say(text) {
            if (!this.hasStatusTarget) return;
            this.statusTarget.textContent = '';
            window.setTimeout(() => { this.statusTarget.textContent = text; }, 50);
        }
    }

    app.register('helpdesk-live', LiveController);
    app.register('helpdesk-live-list', LiveListController);
})();
