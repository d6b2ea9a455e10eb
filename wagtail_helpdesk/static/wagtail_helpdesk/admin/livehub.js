/*
 * The live hub (window.HelpdeskLive): ONE helpdesk connection per browser,
 * whatever the number of tabs; live.js's Stimulus controllers listen to it.
 *
 * - The tabs elect a leader with the Web Locks API (navigator.locks): the
 *   tab holding the lock "wagtail-helpdesk-live-leader" holds the one
 *   WebSocket to /ws/helpdesk/operator/ (HelpdeskChatSocket, chatsocket.js)
 *   or, when sockets do not work, polls the pulse endpoint. When it closes,
 *   the next tab gets the lock and opens its own. A tab that stops (the
 *   session ended, not an operator) gives the lock back at once, and so
 *   does a page that goes (pagehide): it closes its socket itself rather
 *   than leave it to the browser's teardown, which has been seen to leave
 *   the server holding a socket for a page long gone. A page the browser
 *   keeps in its back/forward cache joins again when shown (pageshow).
 * - The tabs talk over a BroadcastChannel: the leader passes on every frame
 *   it receives (an error only to the tab whose frame caused it), the
 *   socket's state and every pulse; the other tabs pass it the frames they
 *   want sent — answered "unsent" when it could not — and say while shown.
 * - The chat workspace (chat.js) and the supervisors' board (chatboard.js)
 *   do not open sockets of their own: HelpdeskChatSocket.connect() gives them
 *   a client of this hub, with the API of a socket. Without Web Locks (a page
 *   not served over HTTPS or localhost), or once the hub stopped, each tab
 *   keeps its own socket.
 *
 * The socket only signals ("tickets.changed"); the pulse endpoint is the
 * truth. The leader asks it after signals (debounced, with a random delay so
 * that the office's browsers do not ask all at once, and never later than
 * PULSE_MAX_WAIT after the first signal), every `poll` seconds while polling
 * and some tab is shown, and every `safety` seconds with a socket. A signal
 * arriving while a pulse is on its way asks another one after it.
 */
(() => {
    'use strict';

    if (window.HelpdeskLive) return;

    const CHANNEL = 'wagtail-helpdesk-live';
    const LOCK = 'wagtail-helpdesk-live-leader';
    const KEYS = {
        newest: 'helpdesk-live-newest', // newest pending ticket this browser knows of
        seen: 'helpdesk-live-seen', // newest pending ticket seen on the Pending queue
        sound: 'helpdesk-live-sound',
    };
    const TICK = 5000; // ms: the tabs' clock
    const SHOWN_FOR = 12000; // ms a tab's "shown" message counts
    const PULSE_AFTER_SIGNAL = 400; // ms: signals within this time make one pulse
    const PULSE_JITTER = 1500; // ms: a random delay more, per burst of signals
    const PULSE_MAX_WAIT = 3000; // ms: a steady stream of signals still makes pulses
    const AFTER_MERGED = 1000; // ms: the same "after" is sent once while unanswered
    const TIMING = { poll: 20, safety: 300, ping: 50 }; // until the first pulse answers

    const local = {
        get(key) {
            try { return window.localStorage.getItem(key); } catch (error) { return null; }
        },
        set(key, value) {
            try { window.localStorage.setItem(key, value); } catch (error) { /* not kept */ }
        },
    };

    /** The browser's one connection, shared by the tabs. */
    class Hub {
        constructor() {
            this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
            this.local = local;
            this.keys = KEYS;
            this.leader = false;
            this.started = false;
            this.stopped = false;
            this.state = { open: false, polling: false };
            this.clients = new Set();
            this.listeners = new Set();
            this.pulse = null;
            this.lastPulse = 0;
            this.lastPing = 0;
            this.shown = new Map(); // tab id → when it last said it is shown
            this.origins = new Map(); // client_id or "c<conversation>" → the tab that sent
            this.afters = new Map(); // "conversation:seq" → when it was last sent
            this.channel = null;
            this.away = false; // the page went (pagehide) and was not shown again
            this.term = 0; // counts the leads: a lead() that was overtaken stops
        }

        get shared() {
            return Boolean(navigator.locks && navigator.locks.request
                && 'BroadcastChannel' in window);
        }

        /** Start once, with the settings of the page's "helpdesk-live" element. */
        start() {
            if (this.started) return this.started;
            const element = document.querySelector('[data-controller~="helpdesk-live"]');
            if (!element) return false;
            this.config = {
                pulse: element.dataset.helpdeskLivePulseValue,
                socket: element.dataset.helpdeskLiveSocketValue,
            };
            this.started = true;
            document.addEventListener('visibilitychange', () => this.tick());
            window.addEventListener('pagehide', () => this.leave());
            window.addEventListener('pageshow', (event) => {
                if (event.persisted) this.join();
            });
            this.join();
            return true;
        }

        /** Take part: the clock, and the lead when this tab gets the lock. */
        join() {
            if (this.stopped) return;
            this.away = false;
            window.clearInterval(this.timer);
            this.timer = window.setInterval(() => this.tick(), TICK);
            if (!this.shared) {
                this.lead();
                return;
            }
            // Open only while the page is shown: a page kept in the back/forward
            // cache hears nothing (a message for it could evict it).
            if (this.channel) this.channel.close();
            this.channel = new BroadcastChannel(CHANNEL);
            this.channel.onmessage = (event) => this.message(event.data || {});
            this.post({ t: 'hello', id: this.id });
            // Held until the page goes or the hub stops: the next tab leads then.
            const asked = new AbortController();
            this.asked = asked;
            navigator.locks.request(LOCK, { signal: asked.signal }, () => new Promise((release) => {
                this.release = release;
                if (this.stopped || this.away) release();
                else this.lead();
            })).catch(() => { /* the page went before the lock came: nothing held */ });
        }

        /** The page goes: close the socket, give the lead and the lock back. */
        leave() {
            if (!this.started || this.stopped || this.away) return;
            this.away = true;
            this.term += 1; // a lead() on its way opens nothing now
            window.clearInterval(this.timer);
            window.clearTimeout(this.askTimer);
            this.askSince = 0;
            if (this.leader) this.post({ t: 'state', open: false, polling: false });
            this.leader = false;
            if (this.socket) this.socket.stop();
            this.socket = null;
            if (this.asked) this.asked.abort();
            if (this.release) this.release();
            this.release = null;
            this.setState({ open: false, polling: false }); // the chat's clients hear it
            if (this.channel) this.channel.close();
            this.channel = null;
        }

        post(message) {
            if (this.channel) this.channel.postMessage(message);
        }

        // --- Every tab --------------------------------------------------------------------

        message(m) {
            if (this.stopped || this.away) return;
            switch (m.t) {
                case 'frame':
                    if (!this.leader && (!m.to || m.to === this.id)) this.deliver(m.frame);
                    break;
                case 'state':
                    if (!this.leader) this.setState({ open: m.open, polling: m.polling });
                    break;
                case 'pulse':
                    if (!this.leader) this.received(m.data);
                    break;
                case 'news':
                    this.news(m);
                    break;
                case 'stop':
                    this.stop();
                    break;
                case 'hello':
                    if (this.leader) {
                        this.post({ t: 'state', ...this.state });
                        if (this.pulse) this.post({ t: 'pulse', data: this.pulse });
                    }
                    break;
                case 'shown':
                    if (this.leader) {
                        this.shown.set(m.id, Date.now());
                        this.due();
                    }
                    break;
                case 'send':
                    if (this.leader && !this.sendShared(m.frame, m.tab)) {
                        this.post({ t: 'unsent', to: m.tab, frame: m.frame });
                    }
                    break;
                case 'unsent':
                    if (m.to === this.id) this.clients.forEach((client) => client.unsent(m.frame));
                    break;
                case 'pulse?':
                    if (this.leader) this.askSoon();
                    break;
                case 'drop':
                    if (this.leader && this.socket) this.socket.drop();
                    break;
                default:
                    break;
            }
        }

        tick() {
            if (!this.started || this.stopped || this.away) return;
            if (!document.hidden) {
                if (this.leader) this.shown.set(this.id, Date.now());
                else this.post({ t: 'shown', id: this.id });
            }
            if (this.leader) this.due();
        }

        setState(state) {
            const was = this.state;
            this.state = { open: Boolean(state.open), polling: Boolean(state.polling) };
            if (this.leader) this.post({ t: 'state', ...this.state });
            this.clients.forEach((client) => client.changed(was, this.state));
        }

        deliver(frame) {
            this.clients.forEach((client) => client.frame(frame));
            if (frame.type === 'tickets.changed') {
                this.listeners.forEach((l) => l.signal && l.signal(frame));
            }
        }

        received(data) {
            this.pulse = data;
            this.listeners.forEach((l) => l.pulse && l.pulse(data));
        }

        news(m) {
            this.listeners.forEach((l) => l.news && l.news(m, m.tab === this.id));
        }

        /** Stop asking, and give the lead (the lock) back: a new tab leads. */
        stop() {
            this.stopped = true;
            window.clearInterval(this.timer);
            window.clearTimeout(this.askTimer);
            if (this.socket) this.socket.stop();
            this.leader = false;
            if (this.release) this.release();
            this.listeners.forEach((l) => l.stopped && l.stopped());
        }

        /** Ask for a pulse (the leader does it, soon). */
        ask() {
            if (this.leader) this.askSoon();
            else this.post({ t: 'pulse?' });
        }

        someTabShown() {
            const now = Date.now();
            if (!document.hidden) return true;
            return [...this.shown.values()].some((at) => now - at < SHOWN_FOR);
        }

        // --- The leader -------------------------------------------------------------------

        async lead() {
            this.term += 1;
            const term = this.term;
            this.leader = true;
            this.setState({ open: false, polling: false });
            const answer = await this.fetchPulse();
            // stop() gave the lock back; leave() too, and a later lead() opens its own.
            if (answer === 'stop' || this.stopped || term !== this.term) return;
            this.openSocket();
        }

        openSocket() {
            const Socket = window.HelpdeskChatSocket;
            if (!Socket || !this.config.socket) {
                this.setState({ open: false, polling: true });
                return;
            }
            // A socket closed when its page went says nothing more, even if
            // its close event comes when the page is shown again.
            const mine = (handle) => (...args) => {
                if (this.socket === socket) handle(...args);
            };
            const socket = new Socket(this.config.socket, {
                onOpen: mine(() => {
                    this.lastPing = Date.now();
                    this.socket.send({ type: 'ping' }); // answered: the socket works
                    this.setState({ open: true, polling: false });
                    this.askSoon(); // whatever changed while it was closed
                }),
                onClose: mine(() => this.setState({ open: false, polling: this.state.polling })),
                onFrame: mine((frame) => {
                    if (frame.type === 'messages') this.answered(frame.conversation);
                    const to = this.originOf(frame);
                    this.post({ t: 'frame', frame, to });
                    if (!to || to === this.id) this.deliver(frame);
                    if (frame.type === 'tickets.changed') this.askSoon();
                }),
                onFallback: mine((polling) => {
                    this.setState({ open: !polling && this.socket.isOpen, polling });
                    if (polling) this.due();
                }),
            });
            this.socket = socket;
        }

        /** Send a tab's frame on the socket; false if it could not. */
        sendShared(frame, tab) {
            if (!this.socket || !this.state.open) return false;
            if (frame && frame.type === 'after') { // several tabs asking the same: once
                const key = `${frame.conversation}:${frame.seq}`;
                const now = Date.now();
                if (now - (this.afters.get(key) || 0) < AFTER_MERGED) return true;
                this.afters.set(key, now);
                if (this.afters.size > 200) this.afters.delete(this.afters.keys().next().value);
            }
            if (frame && tab) {
                const key = frame.client_id || (frame.conversation ? `c${frame.conversation}` : null);
                if (key) {
                    this.origins.set(key, tab);
                    if (this.origins.size > 200) this.origins.delete(this.origins.keys().next().value);
                }
            }
            return Boolean(this.socket.send(frame));
        }

        /** An "after" of the conversation was answered: the next one goes out. */
        answered(conversation) {
            [...this.afters.keys()].filter((key) => key.startsWith(`${conversation}:`))
                .forEach((key) => this.afters.delete(key));
        }

        /** The tab an error frame belongs to (null: every tab). */
        originOf(frame) {
            if (frame.type !== 'error') return null;
            return this.origins.get(frame.client_id)
                || this.origins.get(`c${frame.conversation}`) || null;
        }

        askSoon() {
            const now = Date.now();
            if (!this.askSince) { // the first signal of a burst
                this.askSince = now;
                this.askJitter = Math.random() * PULSE_JITTER;
            }
            const wait = Math.max(0, Math.min(PULSE_AFTER_SIGNAL + this.askJitter,
                this.askSince + PULSE_MAX_WAIT - now));
            window.clearTimeout(this.askTimer);
            this.askTimer = window.setTimeout(() => {
                this.askSince = 0;
                this.fetchPulse();
            }, wait);
        }

        /** Whether a pulse or a ping is due, and do it. */
        due() {
            if (!this.leader || this.stopped || this.away) return;
            const timing = this.pulse || TIMING; // the first pulse failed: the defaults
            const now = Date.now();
            const seconds = this.state.open ? timing.safety : timing.poll;
            if (this.someTabShown() && now - this.lastPulse >= seconds * 1000) this.fetchPulse();
            if (this.state.open && this.socket && now - this.lastPing >= timing.ping * 1000) {
                this.lastPing = now;
                this.socket.send({ type: 'ping' });
            }
        }

        async fetchPulse() {
            if (this.stopped || this.away) return null;
            if (this.fetching) { // asked while one is on its way: another one after it
                this.again = true;
                return null;
            }
            this.fetching = true;
            this.again = false;
            this.lastPulse = Date.now();
            try {
                const response = await fetch(this.config.pulse, {
                    credentials: 'same-origin', headers: { Accept: 'application/json' },
                });
                if (response.status === 403 || response.redirected) {
                    this.post({ t: 'stop' });
                    this.stop();
                    return 'stop';
                }
                if (!response.ok) return null;
                const data = await response.json();
                this.post({ t: 'pulse', data });
                this.received(data);
                this.detectNews(data);
                return data;
            } catch (error) {
                return null; // the next round tries again
            } finally {
                this.fetching = false;
                if (this.again && !this.stopped) {
                    this.again = false;
                    this.askSoon();
                }
            }
        }

        /** A pending ticket newer than any this browser knew of: one tab rings. */
        detectNews(data) {
            const known = Number(local.get(KEYS.newest) || 0);
            const newest = Number(data.newest_pending || 0);
            if (local.get(KEYS.newest) === null || newest < known) {
                local.set(KEYS.newest, String(newest)); // first time here, or taken: no news
                if (local.get(KEYS.seen) === null) local.set(KEYS.seen, String(newest));
                return;
            }
            if (newest === known) return;
            local.set(KEYS.newest, String(newest));
            // The tab the operator looks at rings and says it; else this one.
            let tab = this.id;
            let last = document.hidden ? 0 : Date.now();
            this.shown.forEach((at, id) => {
                if (at > last && Date.now() - at < SHOWN_FOR) {
                    tab = id;
                    last = at;
                }
            });
            const m = { t: 'news', tab, newest };
            this.post(m);
            this.news(m);
        }

        // --- Clients ----------------------------------------------------------------------

        /** A socket-like client for chat.js and chatboard.js (null: open your own). */
        client(callbacks) {
            if (!this.start() || this.stopped) return null;
            const hub = this;
            const client = {
                callbacks,
                get isOpen() { return hub.state.open; },
                get polling() { return hub.state.polling; },
                send(frame) {
                    if (!hub.state.open || hub.stopped) return false;
                    if (hub.leader) return hub.sendShared(frame, hub.id);
                    hub.post({ t: 'send', frame, tab: hub.id });
                    return true; // the leader answers "unsent" if it could not
                },
                drop() {
                    if (hub.leader) {
                        if (hub.socket) hub.socket.drop();
                    } else {
                        hub.post({ t: 'drop' });
                    }
                },
                stop() { hub.clients.delete(client); },
                frame(frame) { if (callbacks.onFrame) callbacks.onFrame(frame); },
                unsent(frame) { if (callbacks.onUnsent) callbacks.onUnsent(frame); },
                changed(was, now) {
                    if (now.polling !== was.polling && callbacks.onFallback) {
                        callbacks.onFallback(now.polling);
                    }
                    if (now.open && !was.open && callbacks.onOpen) callbacks.onOpen();
                    if (!now.open && was.open && callbacks.onClose) callbacks.onClose();
                },
            };
            this.clients.add(client);
            window.setTimeout(() => client.changed({ open: false, polling: false }, this.state), 0);
            return client;
        }

        listen(listener) {
            this.start();
            this.listeners.add(listener);
            if (this.pulse && listener.pulse) window.setTimeout(() => listener.pulse(this.pulse), 0);
            return () => this.listeners.delete(listener);
        }
    }

    window.HelpdeskLive = new Hub();
})();
