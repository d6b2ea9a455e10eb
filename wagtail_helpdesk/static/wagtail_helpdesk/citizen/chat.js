// The citizen's live chat widget (wagtail_helpdesk/citizen/chat/widget.html).
//
// - The conversation's token is kept in sessionStorage: a reload (or a lost
//   network) in the same tab resumes the same conversation, while closing the
//   tab forgets it (a shared or public computer does not hand the next person
//   a conversation full of personal data, as localStorage would). Never in a URL.
// - Messages: a WebSocket (first frame: the token), and, when it cannot open,
//   short polling of messages/?after=N with the token header. The database is
//   the truth: each row has a seq, rendered once, in order; after a reconnect
//   the widget asks for what came after the last seq it has.
// - Sends carry a client_id made here and are retried until "sent" (the
//   server stores a retried id once); what is written offline waits in the
//   outbox (kept in sessionStorage too) and goes when the connection is back.
// - The log (role="log", aria-live polite) only ever gets rows appended, so
//   screen readers announce just the new messages.
// Every word comes from the page (<template data-chat-strings>).
(function () {
    'use strict';

    var STORE = 'helpdeskChat';
    var POLL_MS = 3000;
    var STATUS_MS = 10000;
    var TYPING_MS = 2000;
    var LIVE = { waiting: true, active: true };

    function $(root, selector) { return root.querySelector(selector); }
    function $$(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

    function format(text, values) {
        return String(text).replace(/%\((\w+)\)s/g, function (all, key) {
            return values && values[key] !== undefined ? values[key] : all;
        });
    }

    function newId() {
        if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
    }

    function Chat(root) {
        this.root = root;
        this.urls = JSON.parse(root.getAttribute('data-urls'));
        this.offices = JSON.parse(root.getAttribute('data-offices') || '{}');
        this.available = {};  // operators available now, per office (asked per topic)
        this.inactivity = parseInt(root.getAttribute('data-inactivity-seconds'), 10) * 1000;
        this.grace = parseInt(root.getAttribute('data-grace-seconds'), 10) * 1000;
        this.strings = {};
        var template = $(root, '[data-chat-strings]');
        var self = this;
        $$(template.content || template, '[data-key]').forEach(function (span) {
            self.strings[span.getAttribute('data-key')] = span.textContent.trim();
        });
        this.launcher = $(root, '[data-chat-launcher]');
        this.panel = $(root, '[data-chat-panel]');
        this.log = $(root, '[data-chat-log]');
        this.outbox = $(root, '[data-chat-outbox]');
        this.input = $(root, '[data-chat-input]');
        this.status = $(root, '[data-chat-status]');
        this.seen = {};
        this.unread = 0;
        this.state = null;
        this.lastSeq = 0;
        this.socket = null;
        this.socketReady = false;
        this.pending = [];
        this.retryDelay = 1000;
        this.lastActivity = Date.now();
        this.bind();
        this.resume();
    }

    Chat.prototype.t = function (key, values) { return format(this.strings[key] || '', values); };

    // Storage -------------------------------------------------------------
    Chat.prototype.saved = function () {
        try { return JSON.parse(window.sessionStorage.getItem(STORE) || 'null'); } catch (e) { return null; }
    };
    Chat.prototype.save = function () {
        var data = { token: this.token, pending: this.pending.map(function (item) {
            return { client_id: item.client_id, body: item.body };
        }) };
        try { window.sessionStorage.setItem(STORE, JSON.stringify(data)); } catch (e) { /* private mode */ }
    };
    Chat.prototype.forget = function () {
        try { window.sessionStorage.removeItem(STORE); } catch (e) { /* nothing kept */ }
    };

    // HTTP ------------------------------------------------------------------
    Chat.prototype.request = function (method, url, body, done, asBlob) {
        var xhr = new XMLHttpRequest();
        xhr.open(method, url);
        xhr.setRequestHeader('Accept', 'application/json');
        if (this.token) { xhr.setRequestHeader('X-Helpdesk-Chat-Token', this.token); }
        if (asBlob) { xhr.responseType = 'blob'; }
        xhr.onload = function () {
            var data = {};
            if (!asBlob) { try { data = JSON.parse(xhr.responseText); } catch (e) { data = {}; } }
            done(xhr.status, asBlob ? xhr.response : data, xhr);
        };
        xhr.onerror = function () { done(0, {}, xhr); };
        xhr.send(body || null);
    };
    Chat.prototype.post = function (url, fields, done) {
        var form = fields instanceof FormData ? fields : new FormData();
        if (!(fields instanceof FormData)) {
            Object.keys(fields || {}).forEach(function (key) { form.append(key, fields[key]); });
        }
        this.request('POST', url, form, done);
    };

    // Panel -----------------------------------------------------------------
    Chat.prototype.bind = function () {
        var self = this;
        this.launcher.addEventListener('click', function () {
            if (self.panel.hidden) { self.open(); } else { self.minimise(); }
        });
        $(this.root, '[data-chat-minimise]').addEventListener('click', function () { self.minimise(); });
        this.panel.addEventListener('keydown', function (event) {
            if (event.key === 'Escape') { event.preventDefault(); self.minimise(); }
        });
        ['keydown', 'click', 'input'].forEach(function (kind) {
            self.panel.addEventListener(kind, function () { self.active(); });
        });
        $(this.root, '[data-chat-step=start]').addEventListener('submit', function (event) {
            event.preventDefault();
            self.start(event.target);
        });
        var service = $(this.root, '[data-chat-field=service]');
        service.addEventListener('change', function () { self.showAvailability(service.value, true); });
        $(this.root, '[data-chat-compose]').addEventListener('submit', function (event) {
            event.preventDefault();
            self.sendTyped();
        });
        this.input.addEventListener('keydown', function (event) {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                self.sendTyped();
            }
        });
        this.input.addEventListener('input', function () { self.typing(); });
        $(this.root, '[data-chat-file]').addEventListener('change', function (event) {
            var file = event.target.files[0];
            if (file) { self.sendFile(file); }
            event.target.value = '';
        });
        $(this.root, '[data-chat-to-ticket]').addEventListener('click', function () { self.toTicket(); });
        var callbackOpen = $(this.root, '[data-chat-callback-open]');
        var callback = $(this.root, '[data-chat-callback]');
        callbackOpen.addEventListener('click', function () {
            callback.hidden = !callback.hidden;
            callbackOpen.setAttribute('aria-expanded', String(!callback.hidden));
            if (!callback.hidden) { $(callback, 'input').focus(); }
        });
        callback.addEventListener('submit', function (event) {
            event.preventDefault();
            self.toTicket($(callback, 'input').value);
        });
        $(this.root, '[data-chat-leave]').addEventListener('click', function () {
            if (window.confirm(self.t('confirm_leave'))) { self.leave(); }
        });
        $(this.root, '[data-chat-extend]').addEventListener('click', function () { self.extend(); });
        $$(this.root, '[data-chat-transcript]').forEach(function (button) {
            button.addEventListener('click', function () {
                self.download(self.urls['transcript_' + button.getAttribute('data-chat-transcript')]);
            });
        });
        $(this.root, '[data-chat-email]').addEventListener('click', function (event) {
            var button = event.currentTarget;
            button.disabled = true;
            self.post(self.urls.transcript_email, {}, function (code, data) {
                button.disabled = false;
                $(self.root, '[data-chat-end-notice]').textContent = data.message || data.error || self.t('error_generic');
            });
        });
        $(this.root, '[data-chat-rating]').addEventListener('submit', function (event) {
            event.preventDefault();
            self.rate(event.target);
        });
        $(this.root, '[data-chat-new]').addEventListener('click', function () { self.reset(); });
        window.addEventListener('online', function () { self.reconnect(0); });
        // The page goes: close the socket now (the browser's own teardown has
        // been seen to leave the server holding it); shown again from the
        // back/forward cache: the conversation picks up where it was.
        window.addEventListener('pagehide', function () { self.hide(); });
        window.addEventListener('pageshow', function (event) {
            if (event.persisted) { self.reconnect(0); }
        });
    };

    Chat.prototype.open = function () {
        this.panel.hidden = false;
        this.launcher.setAttribute('aria-expanded', 'true');
        this.unread = 0;
        this.showUnread();
        this.focusStep();
    };
    Chat.prototype.minimise = function () {
        this.panel.hidden = true;
        this.launcher.setAttribute('aria-expanded', 'false');
        this.launcher.focus();
    };
    Chat.prototype.focusStep = function () {
        var step = this.step;
        var target = step === 'chat' ? this.input
            : step === 'end' ? $(this.root, '[data-chat-end-title]')
            : $(this.root, '[data-chat-step=start] select');
        if (target && !target.disabled) { target.focus(); }
    };
    Chat.prototype.show = function (step) {
        var changed = this.step !== step;
        this.step = step;
        $$(this.root, '[data-chat-step]').forEach(function (part) {
            part.hidden = part.getAttribute('data-chat-step') !== step;
        });
        if (changed && !this.panel.hidden) { this.focusStep(); }
    };
    Chat.prototype.say = function (text) {
        // The status region: short, throttled notices (queue, typing, network).
        var status = this.status;
        if (status.textContent === text) { return; }
        status.textContent = text;
    };
    Chat.prototype.fail = function (text) {
        var box = $(this.root, '[data-chat-error]');
        box.textContent = text || '';
        box.classList.toggle('d-none', !text);
    };

    // Field errors ------------------------------------------------------------
    Chat.prototype.clearErrors = function (scope) {
        $$(scope, '[data-chat-error-for]').forEach(function (box) { box.textContent = ''; });
        $$(scope, '[aria-invalid]').forEach(function (field) {
            field.removeAttribute('aria-invalid');
            field.classList.remove('is-invalid');
        });
    };
    Chat.prototype.showErrors = function (scope, fields) {
        var first = null;
        var self = this;
        Object.keys(fields || {}).forEach(function (name) {
            var box = $(scope, '[data-chat-error-for="' + name + '"]');
            var field = $(scope, '[data-chat-field="' + name + '"]') || $(scope, '[name="' + name + '"]');
            if (!box) { self.fail(fields[name].join(' ')); return; }
            box.textContent = fields[name].join(' ');
            if (!box.id) { box.id = self.root.id + '-' + name + '-error'; }
            if (field) {
                field.setAttribute('aria-invalid', 'true');
                field.classList.add('is-invalid');
                var described = (field.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
                if (described.indexOf(box.id) < 0) { described.push(box.id); }
                field.setAttribute('aria-describedby', described.join(' '));
                first = first || field;
            }
        });
        if (first) { first.focus(); }
    };

    // Before the conversation -------------------------------------------------
    Chat.prototype.showAvailability = function (serviceId, refresh) {
        var line = $(this.root, '[data-chat-available]');
        if (!serviceId) { line.textContent = ''; return; }
        var self = this;
        var office = this.offices[serviceId];
        var render = function (count) {
            line.textContent = count === undefined ? '' : count === null ? self.t('available_unknown')
                : count > 0 ? self.t('available_some', { count: count }) : self.t('available_none');
        };
        render(this.available[office]);
        if (refresh) {
            this.request('GET', this.urls.availability + '?service=' + encodeURIComponent(serviceId), null,
                function (code, data) {
                    if (code === 200) { self.available[office] = data.available; render(data.available); }
                });
        }
    };

    Chat.prototype.start = function (form) {
        var self = this;
        this.clearErrors(form);
        this.fail('');
        var data = new FormData(form);
        data.set('client_id', newId());
        var button = $(form, '[type=submit]');
        button.disabled = true;
        this.token = null;
        this.post(this.urls.start, data, function (code, answer) {
            button.disabled = false;
            if (code === 201 && answer.token) {
                self.token = answer.token;
                self.save();
                self.enter(answer);
                $(form, '[data-chat-field=body]').value = '';
                return;
            }
            if (answer.fields) { self.showErrors(form, answer.fields); }
            self.fail(answer.error || self.t('error_generic'));
        });
    };

    // The conversation ------------------------------------------------------------
    Chat.prototype.resume = function () {
        var saved = this.saved();
        if (!saved || !saved.token) { this.show('start'); return; }
        this.token = saved.token;
        var self = this;
        // The history comes back in one go: screen readers announce only
        // what arrives after it (aria-busy while it is rebuilt).
        this.restoring = true;
        $(this.root, '[data-chat-log]').setAttribute('aria-busy', 'true');
        (saved.pending || []).forEach(function (item) { self.queue(item.body, item.client_id); });
        this.request('GET', this.urls.status, null, function (code, data) {
            if (code === 200) { self.enter(data); self.open(); return; }
            if (code === 403) { self.expire(); return; }
            self.show('chat');  // the network is down: keep what we have, retry
            self.reconnect(self.retryDelay);
        });
    };

    Chat.prototype.enter = function (data) {
        this.show('chat');
        this.applyStatus(data);
        this.connect();
        this.timers();
    };

    Chat.prototype.applyStatus = function (data) {
        if (data.state) { this.setState(data.state, data); }
        if (data.operator) { this.operatorName = data.operator; }
        if (this.state === 'active' && this.operatorName) {
            $(this.root, '[data-chat-with]').textContent = this.t('talking_with', { name: this.operatorName });
        }
        if (this.state === 'waiting') {
            var parts = [];
            if (data.place) { parts.push(this.t('queue_place', { place: data.place })); }
            if (data.wait === null || data.wait === undefined) { parts.push(this.t('queue_wait_unknown')); }
            else if (data.wait < 60) { parts.push(this.t('queue_wait_short')); }
            else { parts.push(this.t('queue_wait', { minutes: Math.round(data.wait / 60) })); }
            var text = parts.join(' ');
            $(this.root, '[data-chat-queue-text]').textContent = text;
            this.say(text);
            $(this.root, '[data-chat-nobody]').hidden = data.available !== 0;
        }
        if (data.reference) { this.reference = data.reference; }
    };

    Chat.prototype.setState = function (state, data) {
        var previous = this.state;
        this.state = state;
        $(this.root, '[data-chat-queue]').hidden = state !== 'waiting';
        $(this.root, '[data-chat-compose]').hidden = !LIVE[state];
        $(this.root, '[data-chat-leave]').hidden = !LIVE[state];
        if (!LIVE[state] && previous !== state) { this.finish(state, data || {}); }
    };

    Chat.prototype.finish = function (state, data) {
        this.stopTimers();
        $(this.root, '[data-chat-inactivity]').hidden = true;
        var ticket = state === 'ticket';
        var reference = data.reference || this.reference || '';
        $(this.root, '[data-chat-end-title]').textContent = this.t(ticket ? 'ticket_title' : 'ended_title');
        $(this.root, '[data-chat-end-text]').textContent = ticket
            ? this.t(this.callbackAsked ? 'callback_text' : 'ticket_text', { reference: reference })
            : this.t('ended_text');
        $(this.root, '[data-chat-rating]').hidden = ticket || this.rated;
        // The log stays readable above the end's actions.
        var end = $(this.root, '[data-chat-step=end]');
        var chat = $(this.root, '[data-chat-step=chat]');
        this.step = 'end';
        chat.hidden = false;
        end.hidden = false;
        $(this.root, '[data-chat-step=start]').hidden = true;
        if (!this.panel.hidden) { $(this.root, '[data-chat-end-title]').focus(); }
    };

    Chat.prototype.connect = function () {
        if (!this.token || !LIVE[this.state] && this.state !== null) { this.fetchAfter(); return; }
        if (this.socket) { return; }
        var self = this;
        var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
        var socket;
        try {
            socket = new WebSocket(scheme + window.location.host + this.root.getAttribute('data-ws-path'));
        } catch (e) { this.startPolling(); return; }
        this.socket = socket;
        var opened = false;
        socket.onopen = function () {
            opened = true;
            socket.send(JSON.stringify({ type: 'auth', token: self.token }));
        };
        socket.onmessage = function (event) {
            var frame;
            try { frame = JSON.parse(event.data); } catch (e) { return; }
            self.onFrame(frame);
        };
        socket.onclose = function (event) {
            self.socket = null;
            self.socketReady = false;
            if (event.code === 4403) { self.expire(); return; }
            if (!LIVE[self.state]) { return; }
            if (opened) { self.say(self.t('offline')); }
            self.startPolling();
            self.reconnect(self.retryDelay);
            self.retryDelay = Math.min(self.retryDelay * 2, 30000);
        };
    };

    Chat.prototype.hide = function () {
        window.clearTimeout(this.reconnectTimer);
        var socket = this.socket;
        if (!socket) { return; }
        this.socket = null;
        this.socketReady = false;
        socket.onclose = null; // closed on purpose: no "offline", no retry
        socket.close();
    };

    Chat.prototype.reconnect = function (delay) {
        var self = this;
        window.clearTimeout(this.reconnectTimer);
        this.reconnectTimer = window.setTimeout(function () {
            if (!self.token) { return; }
            self.fetchAfter();
            if (LIVE[self.state] && !self.socket) { self.connect(); }
            self.flush();
        }, delay);
    };

    Chat.prototype.startPolling = function () {
        var self = this;
        if (this.pollTimer) { return; }
        this.pollTimer = window.setInterval(function () {
            if (self.socketReady || !LIVE[self.state]) {
                window.clearInterval(self.pollTimer);
                self.pollTimer = null;
                return;
            }
            self.fetchAfter();
            self.flush();
        }, POLL_MS);
    };

    Chat.prototype.onFrame = function (frame) {
        if (frame.type === 'ready') {
            if (this.retryDelay > 1000) { this.say(this.t('online')); }
            this.socketReady = true;
            this.retryDelay = 1000;
            this.setState(frame.state);
            this.ask();
            this.flush();
        } else if (frame.type === 'new') {
            if (frame.seq > this.lastSeq) { this.ask(); }
            if (frame.state !== this.state) { this.refreshStatus(); }
        } else if (frame.type === 'messages') {
            this.receive(frame);
        } else if (frame.type === 'sent') {
            this.confirm(frame.client_id, frame.seq);
        } else if (frame.type === 'typing') {
            this.showTyping();
        } else if (frame.type === 'error') {
            if (frame.client_id) { this.refuse(frame.client_id, frame.message); }
            else { this.fail(frame.message); }
        }
    };

    Chat.prototype.ask = function () {
        if (this.socketReady) {
            this.socket.send(JSON.stringify({ type: 'after', seq: this.lastSeq }));
        } else {
            this.fetchAfter();
        }
    };

    Chat.prototype.fetchAfter = function () {
        var self = this;
        if (!this.token || this.fetching) { return; }
        this.fetching = true;
        this.request('GET', this.urls.messages + '?after=' + this.lastSeq, null, function (code, data) {
            self.fetching = false;
            if (code === 200) { self.receive(data); }
            else if (code === 403) { self.expire(); }
        });
    };

    Chat.prototype.receive = function (batch) {
        var self = this;
        var stateChanged = batch.state && batch.state !== this.state;
        (batch.messages || []).forEach(function (row) { self.render(row); });
        if (stateChanged) { this.refreshStatus(); }
        if (batch.last_seq > this.lastSeq && (batch.messages || []).length) { this.ask(); }
        else if (this.restoring) { this.restored(); }
    };

    Chat.prototype.restored = function () {
        this.restoring = false;
        $(this.root, '[data-chat-log]').removeAttribute('aria-busy');
    };

    Chat.prototype.render = function (row) {
        if (this.seen[row.seq]) { return; }
        this.seen[row.seq] = true;
        this.lastSeq = Math.max(this.lastSeq, row.seq);
        if (row.client_id) { this.drop(row.client_id); }
        var item = document.createElement('div');
        item.className = 'helpdesk-chat-msg helpdesk-chat-' + row.author;
        item.setAttribute('data-seq', row.seq);
        var who = document.createElement('span');
        who.className = 'helpdesk-chat-who';
        if (row.author === 'citizen') { who.textContent = this.t('you'); }
        else if (row.author === 'operator') {
            who.textContent = row.name || this.t('operator');
            if (row.name) {
                this.operatorName = row.name;
                $(this.root, '[data-chat-with]').textContent = this.t('talking_with', { name: row.name });
            }
        } else { who.textContent = this.t('notice'); who.className += ' visually-hidden'; }
        var sep = document.createElement('span');
        sep.className = 'visually-hidden';
        sep.textContent = ': ';
        who.appendChild(sep);
        item.appendChild(who);
        if (row.body && !row.attachment) {  // a file's row says its name on its button
            var body = document.createElement('p');
            body.className = 'mb-0';
            body.textContent = row.body;
            item.appendChild(body);
        }
        if (row.attachment) { item.appendChild(this.fileButton(row.attachment)); }
        var time = document.createElement('time');
        time.className = 'helpdesk-chat-time';
        time.setAttribute('datetime', row.created);
        var when = new Date(row.created);
        time.textContent = row.time || (isNaN(when) ? '' : when.toLocaleTimeString(
            document.documentElement.lang || undefined, { hour: '2-digit', minute: '2-digit' }));
        item.appendChild(time);
        // Rows arrive in order; one that arrives late is placed by its seq.
        var next = null;
        $$(this.log, '[data-seq]').some(function (other) {
            if (parseInt(other.getAttribute('data-seq'), 10) > row.seq) { next = other; return true; }
            return false;
        });
        this.log.insertBefore(item, next);
        this.log.scrollTop = this.log.scrollHeight;
        if (row.author !== 'citizen' && this.panel.hidden) { this.unread += 1; this.showUnread(); }
        if (row.author === 'operator') { this.hideTyping(); }
    };

    Chat.prototype.showUnread = function () {
        var badge = $(this.root, '[data-chat-unread]');
        badge.hidden = !this.unread;
        badge.textContent = this.unread ? this.t('unread', { count: this.unread }) : '';
    };

    Chat.prototype.size = function (bytes) {
        return bytes >= 1048576 ? this.t('mb', { size: (bytes / 1048576).toFixed(1) })
            : this.t('kb', { size: Math.max(1, Math.round(bytes / 1024)) });
    };

    Chat.prototype.fileButton = function (file) {
        var self = this;
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'btn btn-link btn-sm p-0 helpdesk-chat-file-link';
        button.textContent = this.t('download', { name: file.name, size: this.size(file.size) });
        button.addEventListener('click', function () {
            self.download(self.urls.file.replace(/0\/$/, file.id + '/'), file.name);
        });
        return button;
    };

    Chat.prototype.download = function (url, name) {
        var self = this;
        this.request('GET', url, null, function (code, blob, xhr) {
            if (code !== 200) { self.fail(self.t('error_generic')); return; }
            var disposition = xhr.getResponseHeader('Content-Disposition') || '';
            var match = /filename="([^"]+)"/.exec(disposition);
            var link = document.createElement('a');
            link.href = URL.createObjectURL(blob);
            link.download = name || (match ? match[1] : 'download');
            document.body.appendChild(link);
            link.click();
            window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        }, true);
    };

    // Sending -----------------------------------------------------------------
    Chat.prototype.sendTyped = function () {
        var body = this.input.value.trim();
        if (!body) { return; }
        this.queue(body, newId());
        this.input.value = '';
        this.input.focus();
        this.flush();
    };

    Chat.prototype.queue = function (body, clientId) {
        var item = { client_id: clientId, body: body, state: 'queued' };
        item.element = document.createElement('li');
        item.element.className = 'helpdesk-chat-msg helpdesk-chat-citizen helpdesk-chat-pending';
        var text = document.createElement('p');
        text.className = 'mb-0';
        text.textContent = body;
        var note = document.createElement('small');
        note.className = 'helpdesk-chat-note';
        note.textContent = navigator.onLine === false ? this.t('waiting_network') : this.t('sending');
        item.element.appendChild(text);
        item.element.appendChild(note);
        this.outbox.appendChild(item.element);
        this.pending.push(item);
        this.save();
        return item;
    };

    Chat.prototype.flush = function () {
        var self = this;
        if (!LIVE[this.state]) { return; }
        this.pending.forEach(function (item) {
            if (item.state === 'sending' && Date.now() - item.at < 10000) { return; }
            if (item.state === 'failed' || item.file) { return; }
            item.state = 'sending';
            item.at = Date.now();
            if (self.socketReady) {
                self.socket.send(JSON.stringify({ type: 'send', client_id: item.client_id, body: item.body }));
                return;
            }
            self.post(self.urls.send, { client_id: item.client_id, body: item.body }, function (code, data) {
                if (code === 200) { self.confirm(data.client_id, data.seq); }
                else if (code === 0 || code >= 500 || code === 429) {
                    item.state = 'queued';
                    $(item.element, '.helpdesk-chat-note').textContent = self.t('waiting_network');
                } else { self.refuse(item.client_id, data.error); }
            });
        });
    };

    Chat.prototype.find = function (clientId) {
        return this.pending.filter(function (item) { return item.client_id === clientId; })[0];
    };

    Chat.prototype.confirm = function (clientId, seq) {
        var item = this.find(clientId);
        if (item) { item.state = 'sent'; }
        if (seq > this.lastSeq) { this.ask(); } else { this.drop(clientId); }
    };

    Chat.prototype.drop = function (clientId) {
        var item = this.find(clientId);
        if (!item) { return; }
        item.element.remove();
        this.pending.splice(this.pending.indexOf(item), 1);
        this.save();
    };

    Chat.prototype.refuse = function (clientId, message) {
        var item = this.find(clientId);
        if (!item) { this.fail(message); return; }
        var self = this;
        item.state = 'failed';
        var note = $(item.element, '.helpdesk-chat-note');
        note.textContent = this.t('not_sent') + ' ' + (message || this.t('error_generic')) + ' ';
        var retry = document.createElement('button');
        retry.type = 'button';
        retry.className = 'btn btn-link btn-sm p-0';
        retry.textContent = this.t('retry');
        retry.addEventListener('click', function () {
            item.state = 'queued';
            note.textContent = self.t('sending');
            if (item.file) { self.uploadItem(item); } else { self.flush(); }
        });
        note.appendChild(retry);
        this.fail(message);
    };

    Chat.prototype.sendFile = function (file) {
        var item = this.queue(this.t('file_sending', { name: file.name }), newId());
        item.file = file;
        this.uploadItem(item);
    };

    Chat.prototype.uploadItem = function (item) {
        var self = this;
        var data = new FormData();
        data.append('client_id', item.client_id);
        data.append('file', item.file, item.file.name);
        item.state = 'sending';
        this.post(this.urls.upload, data, function (code, answer) {
            if (code === 200) { self.confirm(answer.client_id, answer.seq); }
            else if (code === 0) { item.state = 'failed'; self.refuse(item.client_id, self.t('waiting_network')); }
            else {
                var fields = answer.fields || {};
                var first = Object.keys(fields)[0];
                self.refuse(item.client_id, first ? fields[first].join(' ') : answer.error);
            }
        });
    };

    Chat.prototype.typing = function () {
        if (!this.socketReady || Date.now() - (this.typedAt || 0) < TYPING_MS) { return; }
        this.typedAt = Date.now();
        this.socket.send(JSON.stringify({ type: 'typing' }));
    };

    Chat.prototype.showTyping = function () {
        var self = this;
        var text = this.operatorName ? this.t('typing', { name: this.operatorName }) : this.t('typing_generic');
        $(this.root, '[data-chat-typing]').textContent = text;
        if (Date.now() - (this.typingSaidAt || 0) > 15000) { this.typingSaidAt = Date.now(); this.say(text); }
        window.clearTimeout(this.typingTimer);
        this.typingTimer = window.setTimeout(function () { self.hideTyping(); }, 5000);
    };
    Chat.prototype.hideTyping = function () { $(this.root, '[data-chat-typing]').textContent = ''; };

    // Status, queue, inactivity -------------------------------------------------
    Chat.prototype.refreshStatus = function () {
        var self = this;
        if (!this.token) { return; }
        this.request('GET', this.urls.status, null, function (code, data) {
            if (code === 200) { self.applyStatus(data); }
            else if (code === 403) { self.expire(); }
        });
    };

    Chat.prototype.timers = function () {
        var self = this;
        this.stopTimers();
        this.lastActivity = Date.now();
        this.statusTimer = window.setInterval(function () {
            if (self.state === 'waiting') { self.refreshStatus(); }
        }, STATUS_MS);
        this.idleTimer = window.setInterval(function () {
            self.checkIdle();
            if (self.pending.length && Date.now() % 5000 < 1000) { self.flush(); }
        }, 1000);
    };
    Chat.prototype.stopTimers = function () {
        window.clearInterval(this.statusTimer);
        window.clearInterval(this.idleTimer);
        window.clearInterval(this.pollTimer);
        this.pollTimer = null;
    };
    Chat.prototype.active = function () {
        if (this.warnedAt) { return; }  // only "I am still here" extends a warning
        this.lastActivity = Date.now();
    };
    Chat.prototype.checkIdle = function () {
        if (!LIVE[this.state]) { return; }
        var idle = Date.now() - this.lastActivity;
        var box = $(this.root, '[data-chat-inactivity]');
        if (!this.warnedAt && idle >= this.inactivity) {
            this.warnedAt = Date.now();
            box.hidden = false;
            if (this.panel.hidden) { this.open(); }
            $(box, '[data-chat-extend]').focus();
        }
        if (this.warnedAt) {
            var left = Math.max(0, Math.ceil((this.grace - (Date.now() - this.warnedAt)) / 1000));
            var text = this.t('inactivity', { seconds: left });
            var line = $(box, '[data-chat-inactivity-text]');
            if (left % 15 === 0 || !line.textContent) { line.textContent = text; }
            if (left === 0) { this.warnedAt = null; box.hidden = true; this.leave(); }
        }
    };
    Chat.prototype.extend = function () {
        this.warnedAt = null;
        this.lastActivity = Date.now();
        $(this.root, '[data-chat-inactivity]').hidden = true;
        this.input.focus();
    };

    Chat.prototype.leave = function () {
        var self = this;
        this.post(this.urls.leave, {}, function (code, data) {
            if (code === 200) { self.applyStatus(data); self.fetchAfter(); }
            else { self.fail(data.error || self.t('error_generic')); }
        });
    };

    Chat.prototype.toTicket = function (phone) {
        var self = this;
        var callback = $(this.root, '[data-chat-callback]');
        this.clearErrors(callback);
        var fields = phone === undefined ? {} : { callback_phone: phone };
        this.post(this.urls.to_ticket, fields, function (code, data) {
            if (code === 200) {
                self.callbackAsked = phone !== undefined;
                self.applyStatus(data);
                self.fetchAfter();
                return;
            }
            if (data.fields) { self.showErrors(callback, data.fields); }
            self.fail(data.error || self.t('error_generic'));
        });
    };

    Chat.prototype.rate = function (form) {
        var self = this;
        this.clearErrors(form);
        this.post(this.urls.rate, new FormData(form), function (code, data) {
            if (code === 200) {
                self.rated = true;
                form.hidden = true;
                $(self.root, '[data-chat-end-notice]').textContent = data.message || self.t('rated');
                $(self.root, '[data-chat-new]').focus();
                return;
            }
            if (data.fields) { self.showErrors(form, data.fields); }
            else { self.fail(data.error || self.t('error_generic')); }
        });
    };

    Chat.prototype.expire = function () {
        if (this.restoring) { this.restored(); }
        this.forget();
        this.reset();
        this.fail(this.t('expired'));
    };

    Chat.prototype.reset = function () {
        this.stopTimers();
        if (this.socket) { this.socket.onclose = null; this.socket.close(); }
        this.socket = null;
        this.socketReady = false;
        this.token = null;
        this.forget();
        this.state = null;
        this.lastSeq = 0;
        this.seen = {};
        this.pending = [];
        this.rated = false;
        this.callbackAsked = false;
        this.operatorName = '';
        this.log.textContent = '';
        this.outbox.textContent = '';
        this.fail('');
        $(this.root, '[data-chat-with]').textContent = '';
        $(this.root, '[data-chat-end-notice]').textContent = '';
        $(this.root, '[data-chat-rating]').reset();
        this.show('start');
        this.focusStep();
    };

    function boot() {
        // One conversation per tab: a second widget on the page (a block and
        // the base template's tag) stays hidden.
        $$(document, '[data-helpdesk-chat]').forEach(function (root, index) {
            if (index > 0) { root.hidden = true; return; }
            if (!root.helpdeskChat) { root.helpdeskChat = new Chat(root); }
        });
    }
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', boot); } else { boot(); }
}());
