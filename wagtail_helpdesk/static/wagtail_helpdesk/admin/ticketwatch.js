// Ticket page: every few seconds, ask who else has the ticket open and whether
// it changed since the page was loaded; show both in the page's live region.
// Stops polling while the tab is hidden. Works without it: the page itself
// lists the colleagues seen when it was rendered.
(function () {
    'use strict';

    function start(box) {
        var url = box.getAttribute('data-url');
        var version = box.getAttribute('data-version');
        var every = parseInt(box.getAttribute('data-every'), 10) || 15000;
        var viewers = box.querySelector('[data-watch-viewers]');
        var names = box.querySelector('[data-watch-names]');
        var changed = box.querySelector('[data-watch-changed]');
        var timer = null;

        function show(data) {
            var list = (data.viewers || []).join(', ');
            if (names.textContent !== list) {
                names.textContent = list;
            }
            viewers.hidden = !list;
            if (data.changed) {
                changed.hidden = false;
            }
        }

        function poll() {
            if (document.hidden) {
                return;
            }
            fetch(url + '?version=' + encodeURIComponent(version), {
                credentials: 'same-origin',
                headers: { Accept: 'application/json' },
            })
                .then(function (response) {
                    return response.ok ? response.json() : null;
                })
                .then(function (data) {
                    if (data) {
                        show(data);
                    }
                })
                .catch(function () {});
        }

        timer = window.setInterval(poll, every);
        document.addEventListener('visibilitychange', function () {
            if (!document.hidden) {
                poll();
            }
        });
        window.addEventListener('pagehide', function () {
            window.clearInterval(timer);
        });
    }

    document.addEventListener('DOMContentLoaded', function () {
        document.querySelectorAll('[data-helpdesk-watch]').forEach(start);
    });
})();
