/*
 * Quick replies in the ticket page's reply box (Stimulus controller
 * "helpdesk-quick-replies", registered with Wagtail's own Stimulus app).
 *
 * The page works without it: the <select> and the "Insert" button send the
 * form to the server, which appends the reply to the text. With it:
 *   - "Insert" puts the chosen reply at the cursor, without reloading;
 *   - typing "/" and a shortcut in the message ("/orari") lists the matching
 *     replies under the text: arrows choose, Enter or Tab inserts (replacing
 *     "/orari"), Esc closes;
 *   - Alt+R (or the "Search" button) opens a search box over the replies.
 * The text inserted is the reply filled in for this ticket and operator, as
 * the server renders it (helpdesk_quick_replies:render).
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    const MAX_SHOWN = 50;
    // "/" at the start of the text or after a space, then the shortcut being typed.
    const SLASH = /(^|\s)\/([\p{L}\p{N}_-]*)$/u;

    const normalise = (text) =>
        (text || '').normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();

    const format = (template, values) =>
        template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));

    class QuickRepliesController extends stimulus.Controller {
        static targets = ['select', 'opener', 'hint', 'popup', 'search', 'list', 'status'];

        static values = {
            url: String,
            textarea: String,
            data: String,
            inserted: String,
            failed: String,
            empty: String,
            count: String,
        };

        connect() {
            const data = document.getElementById(this.dataValue);
            this.replies = (data ? JSON.parse(data.textContent) : []).map((reply) => ({
                ...reply,
                keys: {
                    shortcut: normalise(reply.shortcut),
                    title: normalise(reply.title),
                    category: normalise(reply.category),
                },
            }));
            this.textarea = document.getElementById(this.textareaValue);
            this.mode = null; // null (closed), "slash" or "search"
            this.matches = [];
            this.active = 0;
            this.range = null;

            this.openerTarget.hidden = false;
            this.hintTarget.hidden = false;
            if (this.textarea) {
                this.textarea.setAttribute('aria-keyshortcuts', 'Alt+R');
                this.onTextInput = this.onTextInput.bind(this);
                this.onTextKeydown = this.onTextKeydown.bind(this);
                this.textarea.addEventListener('input', this.onTextInput);
                this.textarea.addEventListener('keydown', this.onTextKeydown);
                this.textarea.addEventListener('blur', () => {
                    if (this.mode === 'slash') window.setTimeout(() => this.close(), 150);
                });
            }
            this.onDocumentKeydown = this.onDocumentKeydown.bind(this);
            this.onDocumentClick = this.onDocumentClick.bind(this);
            document.addEventListener('keydown', this.onDocumentKeydown);
            document.addEventListener('click', this.onDocumentClick);
            this.searchTarget.addEventListener('input', () => this.filter(this.searchTarget.value));
            this.searchTarget.addEventListener('keydown', (event) => this.onSearchKeydown(event));
        }

        disconnect() {
            document.removeEventListener('keydown', this.onDocumentKeydown);
            document.removeEventListener('click', this.onDocumentClick);
            if (this.textarea) {
                this.textarea.removeEventListener('input', this.onTextInput);
                this.textarea.removeEventListener('keydown', this.onTextKeydown);
            }
        }

        // --- Opening, filtering, closing ------------------------------------------

        /** The search box (Alt+R or the "Search" button). */
        open(event) {
            if (event) event.preventDefault();
            if (!this.textarea) return;
            this.range = [this.textarea.selectionStart, this.textarea.selectionEnd];
            this.mode = 'search';
            this.searchTarget.hidden = false;
            this.searchTarget.value = '';
            this.popupTarget.hidden = false;
            this.searchTarget.setAttribute('aria-expanded', 'true');
            this.filter('');
            this.searchTarget.focus();
        }

        close({ focusText = false } = {}) {
            if (!this.mode) return;
            this.mode = null;
            this.popupTarget.hidden = true;
            this.searchTarget.setAttribute('aria-expanded', 'false');
            this.searchTarget.removeAttribute('aria-activedescendant');
            if (this.textarea) this.textarea.removeAttribute('aria-activedescendant');
            if (focusText && this.textarea) this.textarea.focus();
        }

        filter(query) {
            const q = normalise(query.trim().replace(/^\//, ''));
            const scored = [];
            this.replies.forEach((reply, index) => {
                const { shortcut, title, category } = reply.keys;
                let score;
                if (!q) score = 3;
                else if (shortcut === q) score = 0;
                else if (shortcut.startsWith(q)) score = 1;
                else if (title.startsWith(q)) score = 2;
                else if (title.includes(q) || category.includes(q) || shortcut.includes(q)) {
                    score = 3;
                }
                if (score !== undefined) scored.push({ reply, score, index });
            });
            scored.sort((a, b) => a.score - b.score || a.index - b.index);
            this.matches = scored.slice(0, MAX_SHOWN).map((item) => item.reply);
            this.active = 0;
            this.renderList();
        }

        renderList() {
            const list = this.listTarget;
            list.replaceChildren();
            if (!this.matches.length) {
                const empty = document.createElement('li');
                empty.className = 'helpdesk-quickreplies__empty';
                empty.textContent = this.emptyValue;
                list.append(empty);
                this.announce(this.emptyValue);
                this.setActiveDescendant(null);
                return;
            }
            this.matches.forEach((reply, index) => {
                const item = document.createElement('li');
                item.id = `helpdesk-quick-reply-${reply.id}`;
                item.className = 'helpdesk-quickreplies__option';
                item.setAttribute('role', 'option');
                item.dataset.index = String(index);

                const head = document.createElement('span');
                head.className = 'helpdesk-quickreplies__option-head';
                const title = document.createElement('strong');
                title.textContent = reply.title;
                const shortcut = document.createElement('code');
                shortcut.textContent = `/${reply.shortcut}`;
                const scope = document.createElement('span');
                scope.className = 'helpdesk-quickreplies__scope';
                scope.textContent = [reply.category, reply.scope].filter(Boolean).join(' · ');
                head.append(title, ' ', shortcut, ' ', scope);

                const preview = document.createElement('span');
                preview.className = 'helpdesk-quickreplies__preview';
                preview.textContent = reply.preview;
                item.append(head, preview);

                // mousedown would move the focus away from the text (and close the list).
                item.addEventListener('mousedown', (event) => event.preventDefault());
                item.addEventListener('click', () => this.choose(index));
                list.append(item);
            });
            this.highlight();
            this.announce(format(this.countValue, { count: this.matches.length }));
        }

        highlight() {
            const options = this.listTarget.querySelectorAll('[role="option"]');
            options.forEach((option, index) => {
                const selected = index === this.active;
                option.setAttribute('aria-selected', selected ? 'true' : 'false');
                option.classList.toggle('helpdesk-quickreplies__option--active', selected);
                if (selected) option.scrollIntoView({ block: 'nearest' });
            });
            const current = options[this.active];
            this.setActiveDescendant(current ? current.id : null);
        }

        setActiveDescendant(id) {
            const owner = this.mode === 'slash' ? this.textarea : this.searchTarget;
            if (!owner) return;
            if (id) owner.setAttribute('aria-activedescendant', id);
            else owner.removeAttribute('aria-activedescendant');
        }

        move(step) {
            if (!this.matches.length) return;
            this.active = (this.active + step + this.matches.length) % this.matches.length;
            this.highlight();
        }

        // --- Keyboard ---------------------------------------------------------------

        onDocumentKeydown(event) {
            const altR = event.altKey && !event.ctrlKey && !event.metaKey && event.code === 'KeyR';
            if (altR && this.textarea && !this.textarea.disabled) {
                event.preventDefault();
                if (this.mode === 'search') this.close({ focusText: true });
                else {
                    if (document.activeElement !== this.textarea) this.textarea.focus();
                    this.open();
                }
            }
        }

        onDocumentClick(event) {
            if (this.mode && !this.element.contains(event.target) && event.target !== this.textarea) {
                this.close();
            }
        }

        /** Typing "/shortcut" in the message opens the list under it. */
        onTextInput() {
            if (this.inserting) return;
            const caret = this.textarea.selectionStart;
            if (caret !== this.textarea.selectionEnd) return;
            const match = SLASH.exec(this.textarea.value.slice(0, caret));
            if (!match) {
                if (this.mode === 'slash') this.close();
                return;
            }
            const query = match[2];
            this.range = [caret - query.length - 1, caret];
            if (this.mode !== 'slash') {
                this.mode = 'slash';
                this.searchTarget.hidden = true;
                this.popupTarget.hidden = false;
            }
            this.filter(query);
        }

        onTextKeydown(event) {
            if (this.mode !== 'slash') return;
            if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
                event.preventDefault();
                this.move(event.key === 'ArrowDown' ? 1 : -1);
            } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey
                       && this.matches.length) {
                event.preventDefault();
                this.choose(this.active);
            } else if (event.key === 'Escape') {
                event.preventDefault();
                event.stopPropagation();
                this.close();
            }
        }

        onSearchKeydown(event) {
            if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
                event.preventDefault();
                this.move(event.key === 'ArrowDown' ? 1 : -1);
            } else if (event.key === 'Enter') {
                event.preventDefault(); // never submit the reply form from here
                if (this.matches.length) this.choose(this.active);
            } else if (event.key === 'Escape') {
                event.preventDefault();
                event.stopPropagation();
                this.close({ focusText: true });
            }
        }

        // --- Inserting ----------------------------------------------------------------

        /** The "Insert" button: at the cursor instead of sending the form. */
        insertSelected(event) {
            const id = this.selectTarget.value;
            if (!this.textarea) return; // the server does it
            event.preventDefault();
            if (!id) {
                this.selectTarget.focus();
                return;
            }
            const reply = this.replies.find((item) => String(item.id) === id);
            if (!reply) return;
            this.range = [this.textarea.selectionStart, this.textarea.selectionEnd];
            this.insert(reply).then(() => {
                this.selectTarget.value = '';
            });
        }

        choose(index) {
            const reply = this.matches[index];
            if (!reply) return;
            this.close();
            this.insert(reply);
        }

        renderUrl(id) {
            return this.urlValue.replace(/\/0\/$/, `/${id}/`);
        }

        async insert(reply) {
            const textarea = this.textarea;
            const [start, end] = this.range || [textarea.value.length, textarea.value.length];
            let text;
            try {
                const response = await fetch(this.renderUrl(reply.id), {
                    credentials: 'same-origin',
                    headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
                });
                if (!response.ok) throw new Error(String(response.status));
                text = (await response.json()).text;
            } catch (error) {
                this.announce(this.failedValue, true);
                textarea.focus();
                return;
            }
            textarea.focus();
            textarea.setRangeText(text, start, end, 'end');
            // Let Wagtail's auto-growing text area (and anything else) notice.
            this.inserting = true;
            textarea.dispatchEvent(new Event('input', { bubbles: true }));
            this.inserting = false;
            this.range = null;
            this.announce(format(this.insertedValue, { title: reply.title }));
        }

        announce(message, visible = false) {
            this.statusTarget.textContent = message;
            this.statusTarget.classList.toggle('w-sr-only', !visible);
            this.statusTarget.classList.toggle('error-message', visible);
        }
    }

    app.register('helpdesk-quick-replies', QuickRepliesController);
})();
