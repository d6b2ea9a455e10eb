/*
 * The operator's chat socket (window.HelpdeskChatSocket), used by the
 * workspace (chat.js): one WebSocket to /ws/helpdesk/operator/ for every
 * conversation of the page, reopened with a growing delay when it drops.
 *
 * It only carries frames: the database is the truth, so after every
 * (re)opening the caller asks each conversation for what is after the last
 * sequence number it has ("after"), and nothing is lost meanwhile. After
 * `failuresBeforeFallback` sockets in a row closed without a frame from the
 * server, `onFallback(true)` tells the caller to poll over HTTP until a
 * socket works again (`onFallback(false)`).
 *
 *   const socket = HelpdeskChatSocket.connect('/ws/helpdesk/operator/', {
 *       onOpen() {}, onFrame(frame) {}, onFallback(polling) {}, onClose() {},
 *   });
 *   socket.send({ type: 'after', conversation: 12, seq: 40 }); // false if closed
 *   const { ok, data } = await HelpdeskChatSocket.request(url, { json: frame });
 *
 * `connect()` never opens a second socket in the browser: on admin pages it
 * returns a client of the live hub (livehub.js, window.HelpdeskLive), whose
 * leader tab holds the browser's one socket — a `new HelpdeskChatSocket` —
 * and shares its frames with the other tabs (a frame the leader could not
 * send comes back to `onUnsent(frame)`). Only without the hub, or once it
 * stopped, does it open a socket of its own.
 */
(() => {
    'use strict';

    if (window.HelpdeskChatSocket) return; // loaded by the page and by every admin page

    const MAX_DELAY = 30000;

    class HelpdeskChatSocket {
        constructor(path, {
            onOpen, onFrame, onFallback, onClose, failuresBeforeFallback = 2,
        } = {}) {
            this.path = path;
            this.onOpen = onOpen || (() => {});
            this.onClose = onClose || (() => {});
            this.onFrame = onFrame || (() => {});
            this.onFallback = onFallback || (() => {});
            this.failuresBeforeFallback = failuresBeforeFallback;
            this.failures = 0;
            this.polling = false;
            this.stopped = false;
            this.socket = null;
            this.timer = null;
            this.away = false;
            // The page goes: the socket is closed now rather than left to the
            // browser's teardown; shown again from the back/forward cache, it
            // reopens (and the caller asks for what came meanwhile). stop()
            // removes both listeners.
            this.listening = new AbortController();
            const { signal } = this.listening;
            window.addEventListener('pagehide', () => this.hide(), { signal });
            window.addEventListener('pageshow', (event) => {
                if (event.persisted && this.away && !this.stopped) {
                    this.away = false;
                    this.open();
                }
            }, { signal });
            this.open();
        }

        get url() {
            const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
            return `${scheme}//${window.location.host}${this.path}`;
        }

        get isOpen() {
            return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
        }

        open() {
            if (this.stopped) return;
            let socket;
            try {
                socket = new WebSocket(this.url);
            } catch (error) {
                this.retry();
                return;
            }
            this.socket = socket;
            // A socket is healthy once the server has answered on it: one that
            // opens and closes again without a frame (a proxy refusing
            // WebSockets) counts as a failure, so that polling takes over.
            let answered = false;
            socket.addEventListener('open', () => this.onOpen());
            socket.addEventListener('message', (event) => {
                if (!answered) {
                    answered = true;
                    this.failures = 0;
                    if (this.polling) {
                        this.polling = false;
                        this.onFallback(false);
                    }
                }
                let frame;
                try {
                    frame = JSON.parse(event.data);
                } catch (error) {
                    return;
                }
                if (frame && typeof frame === 'object') this.onFrame(frame);
            });
            socket.addEventListener('close', (event) => {
                // Closed as its page went, or replaced since: nothing to say.
                if (this.away || (this.socket && this.socket !== socket)) return;
                if (this.socket === socket) this.socket = null;
                if (!answered) this.failures += 1;
                this.onClose(event);
                // 4401: the session ended; 4403: not an operator. Polling says so too.
                if (event.code === 4401 || event.code === 4403) {
                    this.stopped = true;
                    this.startPolling();
                    return;
                }
                this.retry();
            });
        }

        retry() {
            if (this.stopped) return;
            if (this.failures >= this.failuresBeforeFallback) this.startPolling();
            const delay = Math.min(1000 * 2 ** Math.min(this.failures, 5), MAX_DELAY);
            window.clearTimeout(this.timer);
            this.timer = window.setTimeout(() => this.open(), delay + Math.random() * 500);
        }

        startPolling() {
            if (this.polling) return;
            this.polling = true;
            this.onFallback(true);
        }

        /** Send a frame; false when the socket is not open (the caller uses HTTP). */
        send(frame) {
            if (!this.isOpen) return false;
            try {
                this.socket.send(JSON.stringify(frame));
                return true;
            } catch (error) {
                return false;
            }
        }

        /** Drop the socket now (it reopens by itself), e.g. to test a reconnect. */
        drop() {
            if (this.socket) this.socket.close();
        }

        stop() {
            this.stopped = true;
            this.listening.abort();
            window.clearTimeout(this.timer);
            if (this.socket) this.socket.close();
        }

        hide() {
            if (this.stopped || this.away) return;
            this.away = true;
            window.clearTimeout(this.timer);
            const { socket } = this;
            this.socket = null;
            if (socket) socket.close();
        }
    }

    /** Wagtail's CSRF token, from the admin's configuration. */
    const csrfToken = () => {
        const config = document.getElementById('wagtail-config');
        try {
            return config ? JSON.parse(config.textContent).CSRF_TOKEN : '';
        } catch (error) {
            return '';
        }
    };

    /**
     * The HTTP side of the same exchanges (polling, sending when the socket
     * is closed, files): `{ ok, data }`, `data` being the JSON answer (or
     * null). `json` is sent as JSON, `form` as multipart; either makes a POST
     * with the CSRF token. Network errors reject.
     */
    HelpdeskChatSocket.request = async (url, { json, form } = {}) => {
        const options = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
        if (json !== undefined || form !== undefined) {
            options.method = 'POST';
            options.headers['X-CSRFToken'] = csrfToken();
            if (form !== undefined) {
                options.body = form;
            } else {
                options.headers['Content-Type'] = 'application/json';
                options.body = JSON.stringify(json);
            }
        }
        const response = await fetch(url, options);
        let data = null;
        try {
            data = await response.json();
        } catch (error) {
            data = null;
        }
        return { ok: response.ok, data };
    };

    /** The browser's shared socket (live.js's hub) when there is one, else a socket. */
    HelpdeskChatSocket.connect = (path, callbacks) => {
        const hub = window.HelpdeskLive;
        const client = hub && hub.client(callbacks);
        return client || new HelpdeskChatSocket(path, callbacks);
    };

    window.HelpdeskChatSocket = HelpdeskChatSocket;
})();
