/* Supervisor dashboard: reload the figures every minute.
 *
 * Asks for the same URL with the fragment header and, for every element with
 * a data-refresh-key in the answer, swaps the content of the element with the
 * same key on the page. Panels, the office filter and an open table keep
 * their state. Skips the refresh while the tab is hidden and catches up when
 * it is shown again. Without JavaScript the "Refresh" link does the same. */
(function () {
  'use strict';

  function start(root) {
    const seconds = parseInt(root.dataset.refreshSeconds, 10) || 60;
    const header = root.dataset.fragmentHeader;
    let last = Date.now();
    let busy = false;

    function refresh() {
      if (busy || document.hidden) return;
      busy = true;
      root.setAttribute('aria-busy', 'true');
      fetch(window.location.href, {
        headers: { [header]: '1' },
        credentials: 'same-origin',
        cache: 'no-store',
      })
        .then((response) => {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then((html) => {
          const fresh = new DOMParser().parseFromString(html, 'text/html');
          fresh.querySelectorAll('[data-refresh-key]').forEach((source) => {
            const key = source.dataset.refreshKey;
            const target = root.querySelector(`[data-refresh-key="${key}"]`);
            if (target) target.innerHTML = source.innerHTML;
          });
          last = Date.now();
        })
        .catch(() => {
          /* Keep the figures on screen; the next tick tries again. */
        })
        .finally(() => {
          busy = false;
          root.removeAttribute('aria-busy');
        });
    }

    window.setInterval(refresh, seconds * 1000);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && Date.now() - last >= seconds * 1000) refresh();
    });
  }

  function init() {
    document.querySelectorAll('[data-helpdesk-dashboard]').forEach(start);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
