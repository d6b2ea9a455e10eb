/*
 * The operators' chat workspace (Stimulus controller "helpdesk-chat",
 * registered with Wagtail's own Stimulus app).
 *
 * - One socket for every conversation of the page — the browser's one socket,
 *   shared by its tabs (chatsocket.js's connect(), live.js); when it
 *   cannot open, the page polls GET …/chat/<id>/messages/?after=N instead.
 * - Messages are deduplicated by sequence number; after every (re)opening
 *   each conversation asks for what is after the last one it has.
 * - Conversations are tabs: switching shows another panel without reloading,
 *   and each keeps its draft (also in sessionStorage, so that an action that
 *   reloads the page loses nothing typed) and its scroll position.
 * - Sending: over the socket, or over HTTP when it is closed or no answer
 *   comes; the same client id both ways, so a message is never stored twice.
 *   The text stays in the box until the server has stored it.
 * Every string shown comes from the data-helpdesk-chat-*-value attributes.
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;
    /** HTTP with the CSRF token (chatsocket.js). */
    const request = (...args) => window.HelpdeskChatSocket.request(...args);

    const POLL_EVERY = 3000;
    const ACK_TIMEOUT = 8000;
    const TYPING_EVERY = 2000;
    const TYPING_SHOWN = 4000;
    const DRAFT_KEY = 'helpdesk-chat-draft-';

    const newClientId = () => {
        const random = window.crypto && window.crypto.randomUUID
            ? window.crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
        return `o-${random}`.slice(0, 64);
    };

    const storage = {
        get(key) {
            try { return window.sessionStorage.getItem(key); } catch (error) { return null; }
        },
        set(key, value) {
            try {
                if (value) window.sessionStorage.setItem(key, value);
                else window.sessionStorage.removeItem(key);
            } catch (error) { /* private mode: drafts live in the page only */ }
        },
    };

    const format = (template, values) =>
        template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));

    class ChatController extends stimulus.Controller {
        static targets = ['tab', 'panel', 'connection', 'waitingList'];

        static values = {
            socket: String,
            messages: String,
            waiting: String,
            attachment: String,
            citizen: String,
            internal: String,
            typing: String,
            sending: String,
            sendFailed: String,
            online: String,
            offline: String,
            unread: String,
            changed: String,
            reload: String,
            ended: String,
            searching: String,
            noColleague: String,
        };

        connect() {
            this.conversations = new Map();
            this.panelTargets.forEach((panel) => this.track(panel));
            this.polling = false;
            this.pollTimer = null;
            this.waitingTimer = null;
            if (window.HelpdeskChatSocket) {
                // The browser's one socket, shared with the other tabs (live.js).
                this.socket = window.HelpdeskChatSocket.connect(this.socketValue, {
                    onOpen: () => this.opened(),
                    onFrame: (frame) => this.received(frame),
                    onFallback: (polling) => this.fallback(polling),
                    onUnsent: (frame) => this.unsent(frame),
                });
            } else {
                this.fallback(true);
            }
        }

        disconnect() {
            if (this.socket) this.socket.stop();
            window.clearInterval(this.pollTimer);
        }

        // --- Conversations ------------------------------------------------------------

        track(panel) {
            const pk = Number(panel.dataset.conversation);
            const seen = new Set();
            let lastSeq = 0;
            panel.querySelectorAll('[data-log] [data-seq]').forEach((item) => {
                const seq = Number(item.dataset.seq);
                seen.add(seq);
                lastSeq = Math.max(lastSeq, seq);
            });
            const tab = this.tabTargets.find((t) => Number(t.dataset.conversation) === pk);
            const conv = {
                pk,
                panel,
                tab,
                seen,
                lastSeq,
                state: panel.dataset.state,
                ticket: panel.dataset.ticket,
                log: panel.querySelector('[data-log]'),
                list: panel.querySelector('[data-list]'),
                text: panel.querySelector('[data-text]'),
                unread: 0,
                pending: null,
                scroll: null,
                typedAt: 0,
                citizenName: tab ? tab.querySelector('.helpdesk-chat__tab-name').textContent.trim()
                    : this.citizenValue,
            };
            this.conversations.set(pk, conv);
            if (conv.text) {
                const draft = storage.get(DRAFT_KEY + pk);
                if (draft && !conv.text.value) conv.text.value = draft;
            }
            if (conv.log) conv.log.scrollTop = conv.log.scrollHeight;
        }

        conversationOf(element) {
            const panel = element.closest('[data-helpdesk-chat-target="panel"]');
            return panel ? this.conversations.get(Number(panel.dataset.conversation)) : null;
        }

        // --- Tabs ---------------------------------------------------------------------

        select(event) {
            this.activate(Number(event.currentTarget.dataset.conversation));
        }

        tabKeydown(event) {
            const tabs = this.tabTargets;
            const index = tabs.indexOf(event.currentTarget);
            let next = null;
            if (event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length];
            else if (event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length];
            else if (event.key === 'Home') next = tabs[0];
            else if (event.key === 'End') next = tabs[tabs.length - 1];
            if (!next) return;
            event.preventDefault();
            this.activate(Number(next.dataset.conversation));
            next.focus();
        }

        activate(pk) {
            this.conversations.forEach((conv) => {
                const active = conv.pk === pk;
                const wasShown = !conv.panel.hidden;
                if (wasShown && !active && conv.log) conv.scroll = conv.log.scrollTop;
                if (conv.tab) {
                    conv.tab.setAttribute('aria-selected', active ? 'true' : 'false');
                    conv.tab.tabIndex = active ? 0 : -1;
                }
                conv.panel.hidden = !active;
                // The quick replies listen to Alt+R on the whole page: only the shown tab's.
                const picker = conv.panel.querySelector('[data-chat-quick-replies]');
                if (picker) {
                    if (active) picker.setAttribute('data-controller', picker.dataset.chatQuickReplies);
                    else picker.removeAttribute('data-controller');
                }
                if (active) {
                    conv.unread = 0;
                    this.showUnread(conv);
                    if (conv.log && conv.scroll !== null) conv.log.scrollTop = conv.scroll;
                }
            });
            const url = new URL(window.location.href);
            url.searchParams.set('c', String(pk));
            window.history.replaceState(null, '', url);
        }

        showUnread(conv) {
            const badge = conv.tab && conv.tab.querySelector('[data-unread]');
            if (!badge) return;
            badge.hidden = !conv.unread;
            badge.textContent = conv.unread ? format(this.unreadValue, { count: conv.unread }) : '';
        }

        // --- Transport ------------------------------------------------------------------

        opened() {
            this.conversations.forEach((conv) => {
                this.socket.send({ type: 'watch', conversation: conv.pk });
                this.askAfter(conv);
            });
            this.refreshWaiting();
        }

        fallback(polling) {
            const wasPolling = this.polling;
            this.polling = polling;
            window.clearInterval(this.pollTimer);
            if (polling) {
                this.say(this.offlineValue);
                this.pollTimer = window.setInterval(() => {
                    this.conversations.forEach((conv) => this.poll(conv));
                    this.refreshWaiting();
                }, POLL_EVERY);
                this.conversations.forEach((conv) => this.poll(conv));
            } else if (wasPolling) {
                this.say(this.onlineValue);
            }
        }

        say(text, reload = false) {
            if (!this.hasConnectionTarget) return;
            this.connectionTarget.textContent = text;
            if (reload) {
                const button = document.createElement('button');
                button.type = 'button';
                button.className = 'button button-small button-secondary';
                button.textContent = this.reloadValue;
                button.addEventListener('click', () => window.location.reload());
                this.connectionTarget.append(' ', button);
            }
        }

        askAfter(conv) {
            if (!this.polling && this.socket && this.socket.send({
                type: 'after', conversation: conv.pk, seq: conv.lastSeq })) return;
            this.poll(conv);
        }

        async poll(conv) {
            if (conv.polling) return;
            conv.polling = true;
            try {
                const url = this.messagesValue.replace(/\/0\/messages\/$/, `/${conv.pk}/messages/`);
                const { ok, data } = await request(`${url}?after=${conv.lastSeq}`);
                if (ok && data) this.render(conv, data);
            } catch (error) {
                /* the next round tries again */
            } finally {
                conv.polling = false;
            }
        }

        received(frame) {
            const conv = this.conversations.get(frame.conversation);
            switch (frame.type) {
                case 'new':
                    if (conv) {
                        if (frame.seq > conv.lastSeq) this.askAfter(conv);
                        if (frame.state && frame.state !== conv.state) this.applyState(conv, frame.state);
                    } else if (frame.state === 'waiting' || this.isWaiting(frame.conversation)) {
                        this.refreshWaiting();
                    } else {
                        // Handed to this operator, or an invitation: the page shows it once reloaded.
                        this.say(this.changedValue, true);
                    }
                    break;
                case 'messages':
                    if (conv) this.render(conv, frame);
                    break;
                case 'watching':
                case 'accepted':
                    if (conv && frame.last_seq > conv.lastSeq) this.askAfter(conv);
                    break;
                case 'sent':
                    this.conversations.forEach((c) => this.acknowledged(c, frame.client_id));
                    break;
                case 'typing':
                    if (conv) this.showTyping(conv, frame.who);
                    break;
                case 'error':
                    this.failed(conv, frame);
                    break;
                default:
                    break;
            }
        }

        isWaiting(pk) {
            return this.hasWaitingListTarget
                && Boolean(this.waitingListTarget.querySelector(`[data-waiting="${pk}"]`));
        }

        async refreshWaiting() {
            if (!this.hasWaitingListTarget || this.refreshing) return;
            this.refreshing = true;
            try {
                const response = await fetch(this.waitingValue, { credentials: 'same-origin' });
                if (response.ok) this.waitingListTarget.innerHTML = await response.text();
            } catch (error) {
                /* kept as it was */
            } finally {
                window.setTimeout(() => { this.refreshing = false; }, 1000);
            }
        }

        // --- Messages -------------------------------------------------------------------

        render(conv, batch) {
            const log = conv.log;
            if (!log || !conv.list) return;
            const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
            const rows = (batch.messages || []).slice().sort((a, b) => a.seq - b.seq);
            let added = 0;
            rows.forEach((row) => {
                if (conv.seen.has(row.seq)) return;
                conv.seen.add(row.seq);
                conv.lastSeq = Math.max(conv.lastSeq, row.seq);
                conv.list.append(this.buildRow(conv, row));
                added += 1;
                if (conv.panel.hidden && row.author !== 'system' && !row.mine && !row.client_id) {
                    conv.unread += 1;
                }
            });
            if (added && atBottom) log.scrollTop = log.scrollHeight;
            this.showUnread(conv);
            if (batch.state && batch.state !== conv.state) this.applyState(conv, batch.state);
            if (rows.length && batch.last_seq > conv.lastSeq) this.askAfter(conv);
        }

        buildRow(conv, row) {
            const item = document.createElement('li');
            const internal = row.visibility === 'internal';
            const mine = Boolean(row.mine || row.client_id);
            item.className = [
                'helpdesk-chat__msg', `helpdesk-chat__msg--${row.author}`,
                internal ? 'helpdesk-chat__msg--internal' : '', mine ? 'helpdesk-chat__msg--mine' : '',
            ].filter(Boolean).join(' ');
            item.dataset.seq = String(row.seq);
            if (row.author !== 'system') {
                const meta = document.createElement('p');
                meta.className = 'helpdesk-chat__meta';
                const who = document.createElement('span');
                who.className = 'helpdesk-chat__who';
                who.textContent = row.author === 'citizen' ? conv.citizenName : row.name;
                const time = document.createElement('time');
                time.dateTime = row.created;
                time.textContent = row.time || new Date(row.created)
                    .toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
                meta.append(who, ' ', time);
                if (internal) {
                    const flag = document.createElement('span');
                    flag.className = 'helpdesk-visibility helpdesk-visibility--internal';
                    flag.textContent = this.internalValue;
                    meta.append(' ', flag);
                }
                item.append(meta);
            }
            if (row.body) {
                const body = document.createElement('p');
                body.className = 'helpdesk-chat__body';
                body.textContent = row.body;
                item.append(body);
            }
            if (row.attachment) {
                const p = document.createElement('p');
                p.className = 'helpdesk-chat__attachment';
                const link = document.createElement('a');
                link.href = this.attachmentValue.replace(
                    /\/0\/attachments\/0\/$/, `/${conv.ticket}/attachments/${row.attachment.id}/`);
                link.textContent = row.attachment.name;
                p.append(link);
                item.append(p);
            }
            return item;
        }

        applyState(conv, state) {
            conv.state = state;
            conv.panel.dataset.state = state;
            const mine = conv.panel.dataset.role === 'operator';
            const composer = conv.panel.querySelector('[data-composer]');
            const wrapup = conv.panel.querySelector('[data-wrapup]');
            const ended = conv.panel.querySelector('[data-ended]');
            if (composer) composer.hidden = state !== 'active';
            if (wrapup) wrapup.hidden = state !== 'wrapup';
            if (ended) ended.hidden = state === 'active' || (state === 'wrapup' && mine);
        }

        showTyping(conv, who) {
            const status = conv.panel.querySelector('[data-typing]');
            if (!status) return;
            if (who !== 'citizen') return;
            status.textContent = this.typingValue;
            window.clearTimeout(conv.typingTimer);
            conv.typingTimer = window.setTimeout(() => { status.textContent = ''; }, TYPING_SHOWN);
        }

        // --- Writing --------------------------------------------------------------------

        composerKeydown(event) {
            if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
            const conv = this.conversationOf(event.target);
            const popup = conv && conv.panel.querySelector('.helpdesk-quickreplies__popup');
            if (popup && !popup.hidden) return; // Enter chooses a quick reply there
            event.preventDefault();
            event.target.form.requestSubmit();
        }

        typing(event) {
            const conv = this.conversationOf(event.target);
            if (!conv) return;
            storage.set(DRAFT_KEY + conv.pk, event.target.value);
            const now = Date.now();
            // Never "is writing" to the citizen for a private message.
            if (now - conv.typedAt < TYPING_EVERY || !event.target.value || this.isPrivate(conv)) {
                return;
            }
            conv.typedAt = now;
            if (this.socket) this.socket.send({ type: 'typing', conversation: conv.pk });
        }

        isPrivate(conv) {
            const flag = conv.panel.querySelector('[data-private]');
            if (!flag) return false;
            return flag.type === 'checkbox' ? flag.checked && !flag.closest('[hidden]') : true;
        }

        send(event) {
            event.preventDefault();
            const conv = this.conversationOf(event.target);
            if (!conv || !conv.text) return;
            const body = conv.text.value.trim();
            if (!body || conv.pending) return;
            const frame = {
                type: 'send', conversation: conv.pk, client_id: newClientId(), body,
                private: this.isPrivate(conv),
            };
            conv.pending = frame;
            this.showError(conv, '');
            this.setStatus(conv, this.sendingValue);
            if (!this.polling && this.socket && this.socket.send(frame)) {
                conv.ackTimer = window.setTimeout(() => this.sendOverHttp(conv, frame), ACK_TIMEOUT);
            } else {
                this.sendOverHttp(conv, frame);
            }
        }

        /** The shared socket could not send a frame (another tab holds it): HTTP. */
        unsent(frame) {
            const conv = this.conversations.get(frame.conversation);
            if (!conv) return;
            if (frame.type === 'send' && conv.pending
                    && conv.pending.client_id === frame.client_id) {
                window.clearTimeout(conv.ackTimer);
                this.sendOverHttp(conv, conv.pending);
            } else if (frame.type === 'after') {
                this.poll(conv);
            }
        }

        async sendOverHttp(conv, frame) {
            if (conv.pending !== frame) return;
            try {
                const { ok, data } = await request(conv.panel.dataset.sendUrl, { json: frame });
                const answer = data || {};
                if (ok) {
                    this.acknowledged(conv, answer.client_id);
                    if (answer.row) this.render(conv, { messages: [answer.row] });
                } else {
                    this.failed(conv, { ...answer, client_id: frame.client_id });
                }
            } catch (error) {
                this.failed(conv, { client_id: frame.client_id, message: this.sendFailedValue });
            }
        }

        acknowledged(conv, clientId) {
            if (!conv.pending || conv.pending.client_id !== clientId) return;
            window.clearTimeout(conv.ackTimer);
            if (conv.text.value.trim() === conv.pending.body) conv.text.value = '';
            storage.set(DRAFT_KEY + conv.pk, conv.text.value);
            conv.pending = null;
            this.setStatus(conv, '');
            this.askAfter(conv);
        }

        failed(conv, frame) {
            let target = conv;
            if (frame.client_id) {
                target = [...this.conversations.values()]
                    .find((c) => c.pending && c.pending.client_id === frame.client_id) || conv;
            }
            if (!target) {
                this.say(frame.message || this.sendFailedValue);
                return;
            }
            if (target.pending && target.pending.client_id === frame.client_id) {
                window.clearTimeout(target.ackTimer);
                target.pending = null;
            }
            this.setStatus(target, '');
            this.showError(target, frame.message || this.sendFailedValue);
        }

        setStatus(conv, text) {
            const status = conv.panel.querySelector('[data-typing]');
            if (status && (text || status.dataset.sending)) {
                status.textContent = text;
                status.dataset.sending = text ? '1' : '';
            }
        }

        showError(conv, text) {
            const error = conv.panel.querySelector('[data-error]');
            if (error) error.textContent = text;
        }

        async sendFile(event) {
            const input = event.target;
            const conv = this.conversationOf(input);
            const file = input.files && input.files[0];
            if (!conv || !file) return;
            const data = new FormData();
            data.append('file', file);
            data.append('client_id', newClientId());
            if (this.isPrivate(conv)) data.append('private', '1');
            this.showError(conv, '');
            this.setStatus(conv, this.sendingValue);
            try {
                const { ok, data: answer } = await request(conv.panel.dataset.fileUrl, { form: data });
                if (ok && answer) {
                    if (answer.row) this.render(conv, { messages: [answer.row] });
                    this.askAfter(conv);
                } else {
                    this.showError(conv, (answer && answer.message) || this.sendFailedValue);
                }
            } catch (error) {
                this.showError(conv, this.sendFailedValue);
            } finally {
                this.setStatus(conv, '');
                input.value = '';
            }
        }

        // --- Consult ----------------------------------------------------------------------

        searchColleagues(event) {
            const input = event.target;
            const conv = this.conversationOf(input);
            if (!conv) return;
            window.clearTimeout(this.searchTimer);
            this.searchTimer = window.setTimeout(() => this.loadColleagues(conv, input.value), 250);
        }

        async loadColleagues(conv, query) {
            const box = conv.panel.querySelector('[data-colleagues]');
            if (!box) return;
            box.textContent = this.searchingValue;
            try {
                const url = `${conv.panel.dataset.colleaguesUrl}?q=${encodeURIComponent(query.trim())}`;
                const { data: answer } = await request(url);
                box.replaceChildren();
                if (!answer || !answer.colleagues || !answer.colleagues.length) {
                    box.textContent = this.noColleagueValue;
                    return;
                }
                answer.colleagues.forEach((person) => {
                    const label = document.createElement('label');
                    label.className = 'helpdesk-chat__colleague';
                    const radio = document.createElement('input');
                    radio.type = 'radio';
                    radio.name = 'colleague';
                    radio.value = String(person.id);
                    const name = document.createElement('span');
                    name.textContent = person.name;
                    const status = document.createElement('span');
                    status.className = `helpdesk-presence helpdesk-presence--${person.presence}`;
                    const dot = document.createElement('span');
                    dot.className = 'helpdesk-presence__dot';
                    dot.setAttribute('aria-hidden', 'true');
                    status.append(dot, person.presence_label);
                    const offices = document.createElement('span');
                    offices.className = 'helpdesk-muted';
                    offices.textContent = person.offices.join(', ');
                    label.append(radio, ' ', name, ' ', status, ' ', offices);
                    box.append(label);
                });
            } catch (error) {
                box.textContent = this.noColleagueValue;
            }
        }
    }

    app.register('helpdesk-chat', ChatController);
})();
