/*
 * Incoming conversations, on every admin page (Stimulus controller
 * "helpdesk-chat-notify", registered with Wagtail's own Stimulus app;
 * wagtail_hooks.py puts its element on every admin page).
 *
 * It asks the server every `interval` milliseconds (only while the tab is
 * shown) for the conversations waiting in the operator's queues; the server
 * lists them only when the operator is Disponibile with a free place. A new
 * one is shown in a role="status" notice with "Accetta" (accepts it, then
 * opens the workspace) and "Apri" (the workspace), and — if the operator
 * turned the sound on (kept in localStorage) — a short tone made with the
 * Web Audio API. A user who is no operator gets a 403: it stops asking.
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    const SOUND_KEY = 'helpdesk-chat-sound';
    const SEEN_KEY = 'helpdesk-chat-notified';
    const HELD_KEY = 'helpdesk-chat-held';

    const csrfToken = () => {
        const config = document.getElementById('wagtail-config');
        try {
            return config ? JSON.parse(config.textContent).CSRF_TOKEN : '';
        } catch (error) {
            return '';
        }
    };

    const format = (template, values) =>
        template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));

    const local = {
        get(store, key) {
            try { return window[store].getItem(key); } catch (error) { return null; }
        },
        set(store, key, value) {
            try { window[store].setItem(key, value); } catch (error) { /* not kept */ }
        },
    };

    class NotifyController extends stimulus.Controller {
        static targets = ['notice', 'sound', 'soundRow'];

        static values = {
            url: String,
            interval: { type: Number, default: 15000 },
            heading: String,
            detail: String,
            accept: String,
            open: String,
            dismiss: String,
            failed: String,
            more: String,
            assigned: String,
            workspace: String,
        };

        connect() {
            this.check = this.check.bind(this);
            this.resume = this.resume.bind(this);
            this.shown = null;
            if (!this.sound) this.setUpSound(); // once: the switch may move out of the element
            this.timer = window.setInterval(this.check, this.intervalValue);
            document.addEventListener('visibilitychange', this.resume);
            this.check();
        }

        setUpSound() {
            this.sound = this.soundTarget;
            this.soundRow = this.soundRowTarget;
            this.sound.checked = local.get('localStorage', SOUND_KEY) === 'on';
            this.sound.addEventListener('change', () => this.toggleSound());
            // On the workspace the sound switch sits in the page, always at hand;
            // elsewhere it comes with a notice.
            const slot = document.querySelector('[data-chat-sound-slot]');
            this.onWorkspace = Boolean(slot);
            if (slot) {
                slot.append(this.soundRow);
                this.soundRow.classList.add('helpdesk-chat-notice__sound--inline');
            }
            this.soundRow.hidden = !this.onWorkspace;
        }

        disconnect() {
            window.clearInterval(this.timer);
            document.removeEventListener('visibilitychange', this.resume);
        }

        resume() {
            if (!document.hidden) this.check();
        }

        toggleSound() {
            local.set('localStorage', SOUND_KEY, this.sound.checked ? 'on' : 'off');
            if (this.sound.checked) this.beep(); // the click allows the audio to start
        }

        seen() {
            try {
                return new Set(JSON.parse(local.get('sessionStorage', SEEN_KEY) || '[]'));
            } catch (error) {
                return new Set();
            }
        }

        async check() {
            if (document.hidden || this.stopped) return;
            let answer;
            try {
                const response = await fetch(this.urlValue, {
                    credentials: 'same-origin', headers: { Accept: 'application/json' },
                });
                if (response.status === 403 || response.redirected) {
                    this.stop();
                    return;
                }
                if (!response.ok) return;
                answer = await response.json();
            } catch (error) {
                return;
            }
            // Conversations handed to the operator automatically (round robin,
            // least busy): more held than last time, away from the workspace.
            const before = Number(local.get('sessionStorage', HELD_KEY) || answer.held);
            local.set('sessionStorage', HELD_KEY, String(answer.held));
            if (answer.held > before && !this.onWorkspace) {
                this.showAssigned();
                if (this.sound.checked) this.beep();
                return;
            }
            if (this.shown === 'assigned') return;
            const waiting = answer.offered ? answer.waiting : [];
            if (!waiting.length) {
                this.clear();
                return;
            }
            const first = waiting[0];
            const seen = this.seen();
            const isNew = waiting.some((c) => !seen.has(c.id));
            if (this.shown === first.id && !isNew) return;
            this.show(first, waiting.length);
            if (isNew) {
                waiting.forEach((c) => seen.add(c.id));
                local.set('sessionStorage', SEEN_KEY, JSON.stringify([...seen].slice(-200)));
                if (this.sound.checked) this.beep();
            }
        }

        stop() {
            this.stopped = true;
            window.clearInterval(this.timer);
            this.element.hidden = true;
        }

        clear() {
            this.shown = null;
            this.noticeTarget.replaceChildren();
            this.noticeTarget.classList.remove('helpdesk-chat-notice__box--shown');
            this.soundRow.hidden = !this.onWorkspace;
        }

        showAssigned() {
            this.shown = 'assigned';
            const box = this.noticeTarget;
            box.replaceChildren();
            box.classList.add('helpdesk-chat-notice__box--shown');
            this.soundRow.hidden = false;
            const heading = document.createElement('p');
            heading.className = 'helpdesk-chat-notice__heading';
            heading.textContent = this.assignedValue;
            const actions = document.createElement('div');
            actions.className = 'helpdesk-chat-notice__actions';
            const open = document.createElement('a');
            open.className = 'button button-small';
            open.href = this.workspaceValue;
            open.textContent = this.openValue;
            const dismiss = document.createElement('button');
            dismiss.type = 'button';
            dismiss.className = 'button button-small button-secondary';
            dismiss.textContent = this.dismissValue;
            dismiss.addEventListener('click', () => this.clear());
            actions.append(open, dismiss);
            box.append(heading, actions);
        }

        show(conversation, count) {
            this.shown = conversation.id;
            const box = this.noticeTarget;
            box.replaceChildren();
            box.classList.add('helpdesk-chat-notice__box--shown');
            this.soundRow.hidden = false;
            const heading = document.createElement('p');
            heading.className = 'helpdesk-chat-notice__heading';
            heading.textContent = this.headingValue;
            const detail = document.createElement('p');
            detail.textContent = format(this.detailValue, {
                subject: conversation.subject,
                queue: conversation.queue,
                minutes: Math.max(1, Math.round(conversation.waited / 60)),
            });
            box.append(heading, detail);
            if (count > 1) {
                const more = document.createElement('p');
                more.className = 'helpdesk-chat-notice__more';
                more.textContent = format(this.moreValue, { count: count - 1 });
                box.append(more);
            }
            const actions = document.createElement('div');
            actions.className = 'helpdesk-chat-notice__actions';
            const accept = document.createElement('button');
            accept.type = 'button';
            accept.className = 'button button-small';
            accept.textContent = this.acceptValue;
            accept.addEventListener('click', () => this.accept(conversation, accept));
            const open = document.createElement('a');
            open.className = 'button button-small button-secondary';
            open.href = conversation.open_url;
            open.textContent = this.openValue;
            const dismiss = document.createElement('button');
            dismiss.type = 'button';
            dismiss.className = 'button button-small button-secondary';
            dismiss.textContent = this.dismissValue;
            dismiss.addEventListener('click', () => this.clear());
            actions.append(accept, open, dismiss);
            box.append(actions);
        }

        async accept(conversation, button) {
            button.disabled = true;
            try {
                const response = await fetch(conversation.accept_url, {
                    method: 'POST',
                    credentials: 'same-origin',
                    headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
                });
                const answer = await response.json();
                if (response.ok) {
                    window.location.assign(
                        conversation.open_url.replace(/\?.*$/, `?c=${conversation.id}`));
                    return;
                }
                this.error(answer.error || this.failedValue);
            } catch (error) {
                this.error(this.failedValue);
            }
            button.disabled = false;
        }

        error(message) {
            const p = document.createElement('p');
            p.className = 'error-message';
            p.textContent = message;
            this.noticeTarget.append(p);
        }

        /** The short tone of live.js (shared by the admin's notices). */
        beep() {
            if (window.HelpdeskTone) window.HelpdeskTone.play();
        }
    }

    app.register('helpdesk-chat-notify', NotifyController);
})();
