/*
 * The AI assist on the ticket page (Stimulus controllers registered with
 * Wagtail's own Stimulus app; load gulpease.js first):
 *
 * "helpdesk-assist" (the reply box):
 *   - "Insert" puts a suggested reply into the reply's text: the whole box
 *     when it is empty, else at the cursor; the form's hidden "assisted"
 *     field records where it came from ("quick_reply:12"), so the sent reply
 *     is marked as AI-assisted. Emptying the box forgets it.
 *   - "Rewrite" (only when an administrator switched the language model on)
 *     has the server rewrite a suggestion; it is then inserted as
 *     "rewrite:quick_reply:12".
 *   - the Gulpease readability index of the text, under the box, as it is
 *     typed, with a gentle word when it is hard to read.
 * "helpdesk-assist-summary" (the summary panel): "Copy" and "Rewrite".
 *
 * Nothing is ever sent by itself: the operator sends the reply.
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    const format = (template, values) =>
        template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));

    const readJson = (id) => {
        const node = id ? document.getElementById(id) : null;
        return node ? JSON.parse(node.textContent) : null;
    };

    const csrfToken = () => {
        const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
        if (input) return input.value;
        const cookie = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='));
        return cookie ? decodeURIComponent(cookie.split('=')[1]) : '';
    };

    async function askRewrite(url, body) {
        const response = await fetch(url, {
            method: 'POST',
            credentials: 'same-origin',
            headers: {
                'Content-Type': 'application/json',
                Accept: 'application/json',
                'X-CSRFToken': csrfToken(),
                'X-Requested-With': 'XMLHttpRequest',
            },
            body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
    }

    class AssistController extends stimulus.Controller {
        static targets = ['text', 'buttons', 'meter', 'index', 'advice', 'status'];

        static values = {
            textarea: String,
            assisted: String,
            data: String,
            url: String,
            inserted: String,
            rewriting: String,
            failed: String,
            readability: String,
            bands: String,
        };

        connect() {
            this.suggestions = readJson(this.dataValue) || [];
            this.bands = readJson(this.bandsValue);
            this.textarea = document.getElementById(this.textareaValue);
            this.assisted = document.getElementById(this.assistedValue);
            if (!this.textarea) return;
            this.buttonsTargets.forEach((node) => { node.hidden = false; });
            this.onInput = this.onInput.bind(this);
            this.textarea.addEventListener('input', this.onInput);
            if (this.hasMeterTarget && this.bands) {
                // Kept by reference: moved under the reply box (where the operator
                // looks while typing), it is no longer one of this controller's targets.
                this.meter = this.meterTarget;
                this.index = this.indexTarget;
                this.advice = this.adviceTarget;
                const field = this.textarea.closest('.w-field__wrapper') || this.textarea;
                field.after(this.meter);
                this.advice.setAttribute('aria-live', 'polite');
            }
            this.onInput();
        }

        disconnect() {
            if (this.textarea) this.textarea.removeEventListener('input', this.onInput);
            window.clearTimeout(this.timer);
            if (this.meter) this.meter.remove();
        }

        onInput() {
            if (this.assisted && !this.textarea.value.trim()) this.assisted.value = '';
            window.clearTimeout(this.timer);
            this.timer = window.setTimeout(() => this.measure(), 200);
        }

        measure() {
            if (!this.meter || !window.helpdeskGulpease) return;
            const index = window.helpdeskGulpease.gulpease(this.textarea.value);
            if (index === null) {
                this.meter.hidden = true;
                return;
            }
            const band = this.bands.bands.find((item) => index >= item.min)
                || this.bands.bands[this.bands.bands.length - 1];
            this.meter.hidden = false;
            this.meter.dataset.level = band.level;
            this.meter.className = `helpdesk-readability helpdesk-readability--${band.level}`;
            this.index.textContent = format(this.readabilityValue, { index });
            // Said again only when the level changes, not at every key.
            if (this.level !== band.level) {
                this.level = band.level;
                this.advice.textContent = ` ${band.message}`;
            }
        }

        insert(event) {
            const suggestion = this.suggestions[event.params.index];
            if (!suggestion || !this.textarea) return;
            const textarea = this.textarea;
            const empty = !textarea.value.trim();
            const start = empty ? 0 : textarea.selectionStart;
            const end = empty ? textarea.value.length : textarea.selectionEnd;
            textarea.focus();
            textarea.setRangeText(suggestion.text, start, end, 'end');
            textarea.dispatchEvent(new Event('input', { bubbles: true }));
            if (this.assisted) this.assisted.value = suggestion.assisted;
            this.announce(format(this.insertedValue, { title: suggestion.title }));
        }

        async rewrite(event) {
            const index = event.params.index;
            const suggestion = this.suggestions[index];
            if (!suggestion) return;
            const button = event.currentTarget;
            button.disabled = true;
            this.announce(this.rewritingValue);
            try {
                const answer = await askRewrite(this.urlValue, { purpose: 'reply', text: suggestion.text });
                if (!answer.rewritten) throw new Error('unchanged');
                if (!suggestion.assisted.startsWith('rewrite:')) {
                    suggestion.assisted = `rewrite:${suggestion.assisted}`;
                }
                suggestion.text = answer.text;
                const shown = this.textTargets[index];
                if (shown) {
                    shown.replaceChildren(...answer.text.split(/\n{2,}/).map((part) => {
                        const paragraph = document.createElement('p');
                        paragraph.textContent = part;
                        return paragraph;
                    }));
                }
                this.announce(answer.message);
            } catch (error) {
                this.announce(this.failedValue, true);
            } finally {
                button.disabled = false;
            }
        }

        announce(message, visible = false) {
            if (!this.hasStatusTarget) return;
            this.statusTarget.textContent = message;
            this.statusTarget.classList.toggle('w-sr-only', !visible);
            this.statusTarget.classList.toggle('error-message', visible);
        }
    }

    class SummaryController extends stimulus.Controller {
        static targets = ['original', 'rewritten', 'buttons', 'status'];

        static values = {
            url: String, text: String, copied: String, rewriting: String, failed: String,
        };

        connect() {
            this.text = readJson(this.textValue) || '';
            this.buttonsTargets.forEach((node) => { node.hidden = false; });
        }

        async copy() {
            const text = this.rewrittenTarget.hidden ? this.text : this.rewrittenTarget.textContent;
            try {
                await navigator.clipboard.writeText(text);
                this.announce(this.copiedValue);
            } catch (error) {
                this.announce(text, true); // shown, for a manual copy
            }
        }

        async rewrite(event) {
            const button = event.currentTarget;
            button.disabled = true;
            this.announce(this.rewritingValue);
            try {
                const answer = await askRewrite(this.urlValue, { purpose: 'summary' });
                if (!answer.rewritten) throw new Error('unchanged');
                const paragraph = document.createElement('p');
                paragraph.textContent = answer.text;
                const note = document.createElement('p');
                note.className = 'help';
                note.textContent = answer.message;
                this.rewrittenTarget.replaceChildren(paragraph, note);
                this.rewrittenTarget.hidden = false;
                this.announce(answer.message);
            } catch (error) {
                this.announce(this.failedValue, true);
            } finally {
                button.disabled = false;
            }
        }

        announce(message, visible = false) {
            this.statusTarget.textContent = message;
            this.statusTarget.classList.toggle('w-sr-only', !visible);
            this.statusTarget.classList.toggle('error-message', visible);
        }
    }

    app.register('helpdesk-assist', AssistController);
    app.register('helpdesk-assist-summary', SummaryController);
})();
