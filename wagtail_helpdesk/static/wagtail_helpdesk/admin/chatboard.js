/*
 * The supervisors' live chat board and the live view of one conversation
 * (Stimulus controllers "helpdesk-chat-board" and "helpdesk-chat-monitor",
 * registered with Wagtail's own Stimulus app). Every text comes from the
 * templates (data attributes); nothing here is written in a language.
 *
 * helpdesk-chat-board: opens the operator socket (/ws/helpdesk/operator/),
 * which says "new" whenever a conversation of the supervisor's queues
 * changes; on each signal it asks for the board again (the same URL with the
 * fragment header) and swaps the content. Never more than one request in
 * flight: signals arriving meanwhile make one more request afterwards. With
 * the socket it also refreshes every clock-seconds (the waits move on);
 * without it (blocked, closed, not served) every poll-seconds, and it tries
 * to reconnect with a growing delay. Nothing is asked while the tab is
 * hidden. The control that had the focus gets it back after a swap.
 *
 * <div data-controller="helpdesk-chat-board"
 *      data-helpdesk-chat-board-header-value="X-Helpdesk-Fragment"
 *      data-helpdesk-chat-board-socket-value="/ws/helpdesk/operator/"
 *      data-helpdesk-chat-board-poll-seconds-value="10"
 *      data-helpdesk-chat-board-clock-seconds-value="30">
 *   <div role="status" data-helpdesk-chat-board-target="announcer"></div>
 *   <div data-helpdesk-chat-board-target="content">…</div>
 * </div>
 *
 * helpdesk-chat-monitor: after "Osserva" (a POST: the operator is told), the
 * messages of one conversation, internal ones included, live: the socket's
 * "watch" frame, then "after" on every "new" signal; polling the messages URL
 * without the socket. Once the supervisor joined, the composer sends with the
 * socket's "send" frame (or a POST without it); a refused message stays in
 * the box with the reason.
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    const RECONNECT_MAX = 60000;

    function socketUrl(path) {
        const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
        return `${scheme}//${window.location.host}${path}`;
    }

    /** A socket that reconnects with a growing delay; callbacks get parsed frames.
     *  On admin pages it is the browser's one socket, shared by the tabs
     *  (live.js's hub): no second connection. */
    class Socket {
        constructor(path, { open, frame, close }) {
            this.path = path;
            this.callbacks = { open, frame, close };
            this.delay = 1000;
            this.stopped = false;
            this.away = false;
            const hub = window.HelpdeskLive;
            this.shared = hub && path
                ? hub.client({ onOpen: open, onFrame: frame, onClose: close }) : null;
            if (this.shared) return;
            // Its own socket: closed as the page goes, opened again if the
            // page is shown from the back/forward cache. stop() removes both
            // listeners (as chatsocket.js does).
            this.listening = new AbortController();
            const { signal } = this.listening;
            window.addEventListener('pagehide', () => this.hide(), { signal });
            window.addEventListener('pageshow', (event) => {
                if (event.persisted && this.away && !this.stopped) {
                    this.away = false;
                    this.connect();
                }
            }, { signal });
            this.connect();
        }

        hide() {
            if (this.stopped || this.away) return;
            this.away = true;
            window.clearTimeout(this.timer);
            const { ws } = this;
            this.ws = null; // its close event then says nothing
            if (ws) ws.close();
        }

        connect() {
            if (this.stopped || !this.path || !('WebSocket' in window)) return;
            let ws;
            try {
                ws = new WebSocket(socketUrl(this.path));
            } catch (error) {
                this.retry();
                return;
            }
            this.ws = ws;
            ws.addEventListener('open', () => {
                this.delay = 1000;
                this.callbacks.open();
            });
            ws.addEventListener('message', (event) => {
                let data;
                try {
                    data = JSON.parse(event.data);
                } catch (error) {
                    return;
                }
                if (data && typeof data === 'object') this.callbacks.frame(data);
            });
            ws.addEventListener('close', () => {
                if (this.ws !== ws) return;
                this.ws = null;
                this.callbacks.close();
                this.retry();
            });
        }

        retry() {
            if (this.stopped || this.away) return;
            this.timer = window.setTimeout(() => this.connect(), this.delay);
            this.delay = Math.min(this.delay * 2, RECONNECT_MAX);
        }

        get open() {
            if (this.shared) return this.shared.isOpen;
            return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
        }

        send(frame) {
            if (this.shared) return this.shared.send(frame);
            if (!this.open) return false;
            this.ws.send(JSON.stringify(frame));
            return true;
        }

        stop() {
            this.stopped = true;
            if (this.listening) this.listening.abort();
            if (this.shared) this.shared.stop();
            window.clearTimeout(this.timer);
            if (this.ws) {
                const ws = this.ws;
                this.ws = null;
                ws.close();
            }
        }
    }

    class ChatBoardController extends stimulus.Controller {
        static targets = ['content', 'announcer'];

        static values = {
            header: String,
            socket: String,
            pollSeconds: { type: Number, default: 10 },
            clockSeconds: { type: Number, default: 30 },
        };

        initialize() {
            this.tick = this.tick.bind(this);
            this.resume = this.resume.bind(this);
        }

        connect() {
            this.busy = false;
            this.again = false;
            this.last = Date.now();
            this.element.dataset.live = 'polling';
            this.announced = this.announcement();
            this.socket = new Socket(this.socketValue, {
                open: () => {
                    this.element.dataset.live = 'socket';
                    this.refresh(); // whatever happened while it was closed
                },
                frame: (frame) => {
                    if (frame.type === 'new') this.refresh();
                },
                close: () => {
                    this.element.dataset.live = 'polling';
                },
            });
            this.timer = window.setInterval(this.tick, 1000);
            document.addEventListener('visibilitychange', this.resume);
        }

        disconnect() {
            this.socket.stop();
            window.clearInterval(this.timer);
            document.removeEventListener('visibilitychange', this.resume);
        }

        get period() {
            const seconds = this.socket.open ? this.clockSecondsValue : this.pollSecondsValue;
            return (seconds || 10) * 1000;
        }

        tick() {
            if (Date.now() - this.last >= this.period) this.refresh();
        }

        resume() {
            if (!document.hidden && this.missed) this.refresh();
        }

        announcement() {
            const source = this.contentTarget.querySelector('[data-announce]');
            return source ? source.textContent.trim() : '';
        }

        refresh() {
            if (document.hidden) {
                this.missed = true;
                return;
            }
            if (this.busy) {
                this.again = true;
                return;
            }
            this.busy = true;
            this.missed = false;
            this.again = false;
            this.last = Date.now();
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
                .then((html) => this.swap(html))
                .catch(() => {
                    /* Keep the board on screen; the next signal or tick tries again. */
                })
                .finally(() => {
                    this.busy = false;
                    this.element.removeAttribute('aria-busy');
                    if (this.again) this.refresh();
                });
        }

        swap(html) {
            const focused = document.activeElement;
            const focusedId = focused && this.contentTarget.contains(focused) ? focused.id : '';
            this.contentTarget.innerHTML = html;
            if (focusedId) {
                const again = document.getElementById(focusedId);
                if (again) again.focus();
            }
            const text = this.announcement();
            if (text && text !== this.announced) this.announcerTarget.textContent = text;
            this.announced = text;
        }
    }

    class ChatMonitorController extends stimulus.Controller {
        static targets = ['log', 'state', 'status', 'composer', 'body', 'clientId', 'error'];

        static values = {
            conversation: Number,
            socket: String,
            messagesUrl: String,
            sendUrl: String,
            attachmentUrl: String,
            lastSeq: Number,
            pollSeconds: { type: Number, default: 5 },
            citizen: String,
            operatorLabel: String,
            systemLabel: String,
            internalLabel: String,
            failedLabel: String,
            offlineLabel: String,
        };

        initialize() {
            this.poll = this.poll.bind(this);
        }

        connect() {
            const states = document.getElementById('helpdesk-chat-states');
            this.states = states ? JSON.parse(states.textContent) : {};
            this.asking = false;
            this.askAgain = false;
            this.pending = null;
            this.socket = new Socket(this.socketValue, {
                open: () => {
                    this.say('');
                    this.socket.send({ type: 'watch', conversation: this.conversationValue });
                },
                frame: (frame) => this.frame(frame),
                close: () => this.say(this.offlineLabelValue),
            });
            this.timer = window.setInterval(this.poll, (this.pollSecondsValue || 5) * 1000);
        }

        disconnect() {
            this.socket.stop();
            window.clearInterval(this.timer);
        }

        say(text) {
            if (this.hasStatusTarget && this.statusTarget.textContent !== text) {
                this.statusTarget.textContent = text;
            }
        }

        frame(frame) {
            const mine = frame.conversation === this.conversationValue;
            if (frame.type === 'watching' && mine) this.ask();
            else if (frame.type === 'new' && mine && frame.seq > this.lastSeqValue) this.ask();
            else if (frame.type === 'messages' && mine) this.received(frame);
            else if (frame.type === 'sent' && frame.client_id === this.pending) this.sent();
            else if (frame.type === 'error') {
                if (frame.client_id && frame.client_id === this.pending) this.refused(frame.message);
                else if (frame.conversation === this.conversationValue || !frame.conversation) {
                    this.say(frame.message || '');
                }
            }
        }

        /** "What is there after the last message I have?", by socket. */
        ask() {
            if (this.asking) {
                this.askAgain = true;
                return;
            }
            if (this.socket.send({ type: 'after', conversation: this.conversationValue,
                                   seq: this.lastSeqValue })) {
                this.asking = true;
            }
        }

        /** The same without the socket (one request at a time). */
        poll() {
            if (this.socket.open || this.asking || document.hidden) return;
            this.asking = true;
            const url = `${this.messagesUrlValue}?after=${encodeURIComponent(this.lastSeqValue)}`;
            fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
                .then((response) => (response.ok ? response.json() : null))
                .then((data) => {
                    this.asking = false;
                    if (data) this.received(data);
                })
                .catch(() => {
                    this.asking = false;
                });
        }

        received(batch) {
            this.asking = false;
            const rows = batch.messages || [];
            rows.forEach((row) => {
                if (row.seq > this.lastSeqValue) {
                    this.logTarget.appendChild(this.render(row));
                    this.lastSeqValue = row.seq;
                }
            });
            if (batch.state && this.hasStateTarget) {
                const label = this.states[batch.state] || batch.state;
                if (this.stateTarget.textContent !== label) this.stateTarget.textContent = label;
            }
            if (this.askAgain || (batch.last_seq || 0) > this.lastSeqValue) {
                this.askAgain = false;
                if (this.socket.open) this.ask();
            }
        }

        render(row) {
            const item = document.createElement('li');
            item.className = `helpdesk-chatview__message helpdesk-chatview__message--${row.author}`;
            if (row.visibility === 'internal') item.classList.add('helpdesk-chatview__message--internal');
            item.dataset.seq = row.seq;
            const author = document.createElement('span');
            author.className = 'helpdesk-chatview__author';
            if (row.author === 'citizen') author.textContent = this.citizenValue;
            else if (row.author === 'operator') author.textContent = row.name || this.operatorLabelValue;
            else author.textContent = this.systemLabelValue;
            item.appendChild(author);
            item.appendChild(document.createTextNode(' '));
            const time = document.createElement('time');
            time.className = 'helpdesk-chatview__time';
            time.dateTime = row.created;
            const created = new Date(row.created);
            time.textContent = row.time || (Number.isNaN(created.getTime()) ? '' : created.toLocaleTimeString(
                document.documentElement.lang || undefined, { hour: '2-digit', minute: '2-digit' }));
            item.appendChild(time);
            if (row.visibility === 'internal') {
                const badge = document.createElement('span');
                badge.className = 'w-status helpdesk-chatview__internal';
                badge.textContent = this.internalLabelValue;
                item.appendChild(document.createTextNode(' '));
                item.appendChild(badge);
            }
            const body = document.createElement('p');
            body.className = 'helpdesk-chatview__body';
            if (row.attachment && this.attachmentUrlValue) {
                const link = document.createElement('a');
                link.href = this.attachmentUrlValue.replace(/0\/$/, `${row.attachment.id}/`);
                link.textContent = row.attachment.name;
                body.appendChild(link);
            } else {
                body.textContent = row.body || '';
            }
            item.appendChild(body);
            return item;
        }

        newClientId() {
            const random = window.crypto && window.crypto.randomUUID
                ? window.crypto.randomUUID().replace(/-/g, '')
                : `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
            return `s-${random}`.slice(0, 64);
        }

        keydown(event) {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                this.composerTarget.requestSubmit();
            }
        }

        send(event) {
            event.preventDefault();
            if (this.pending) return; // one message at a time: the box keeps the next one
            const body = this.bodyTarget.value.trim();
            if (!body) return;
            if (!this.clientIdTarget.value) this.clientIdTarget.value = this.newClientId();
            this.pending = this.clientIdTarget.value;
            this.errorTarget.hidden = true;
            const frame = { type: 'send', conversation: this.conversationValue,
                            client_id: this.pending, body };
            if (this.socket.send(frame)) {
                // No answer (the socket dropped meanwhile): say so, keep the text.
                const waiting = this.pending;
                window.setTimeout(() => {
                    if (this.pending === waiting) this.refused('');
                }, 10000);
                return;
            }
            fetch(this.sendUrlValue, {
                method: 'POST',
                body: new FormData(this.composerTarget),
                credentials: 'same-origin',
                headers: { Accept: 'application/json' },
            })
                .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
                .then(({ ok, data }) => {
                    if (ok) {
                        this.sent();
                        this.poll();
                    } else {
                        this.refused(data.error);
                    }
                })
                .catch(() => this.refused(''));
        }

        sent() {
            this.pending = null;
            this.bodyTarget.value = '';
            this.bodyTarget.removeAttribute('aria-invalid');
            this.clientIdTarget.value = this.newClientId();
            this.errorTarget.hidden = true;
            this.bodyTarget.focus();
        }

        refused(message) {
            // The same client id stays: a retry of a message the server did
            // store is answered with that message, never stored twice.
            this.pending = null;
            this.errorTarget.textContent = message || this.failedLabelValue;
            this.errorTarget.hidden = false;
            this.bodyTarget.setAttribute('aria-invalid', 'true');
            this.bodyTarget.setAttribute('aria-describedby', this.errorTarget.id);
        }
    }

    app.register('helpdesk-chat-board', ChatBoardController);
    app.register('helpdesk-chat-monitor', ChatMonitorController);
})();
