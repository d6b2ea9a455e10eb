// Every admin page an operator keeps open tells the helpdesk, once a minute,
// that they are still there: that is what keeps an automatic status
// "available". Nothing is sent while the tab is hidden.
(function () {
    'use strict';

    var script = document.currentScript;
    if (!script) {
        return;
    }
    var url = script.getAttribute('data-helpdesk-heartbeat');
    var every = parseInt(script.getAttribute('data-every'), 10) || 60000;

    function token() {
        var config = document.getElementById('wagtail-config');
        try {
            return config ? JSON.parse(config.textContent).CSRF_TOKEN : '';
        } catch (e) {
            return '';
        }
    }

    function beat() {
        if (document.hidden) {
            return;
        }
        fetch(url, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'X-CSRFToken': token() },
        }).catch(function () {});
    }

    window.setInterval(beat, every);
    document.addEventListener('visibilitychange', function () {
        if (!document.hidden) {
            beat();
        }
    });
    beat();
})();
