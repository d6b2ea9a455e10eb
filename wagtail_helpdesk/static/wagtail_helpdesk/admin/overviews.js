/*
 * Overviews: while one is being generated, reload the list of overviews
 * every few seconds. The controller is the dashboard's
 * (window.HelpdeskRefreshController, dashboard.js, loaded first), registered
 * here as "helpdesk-overviews" with Wagtail's own Stimulus app. The server
 * renders it only while an overview is queued or running; it stops quietly
 * once none is (nothing matches [data-running]), and after max-seconds, or
 * idle-seconds without any change, it stops and shows the "stopped" note.
 * Without JavaScript the "Refresh" link does the same by hand.
 *
 * <div data-controller="helpdesk-overviews"
 *      data-helpdesk-overviews-refresh-seconds-value="3"
 *      data-helpdesk-overviews-while-selector-value="[data-running]"
 *      data-helpdesk-overviews-max-seconds-value="600"
 *      data-helpdesk-overviews-idle-seconds-value="120">
 *   <div data-helpdesk-overviews-target="part" data-refresh-key="list">…</div>
 *   <p data-helpdesk-overviews-target="stopped" hidden>…</p>
 * </div>
 */
(() => {
    'use strict';

    const app = window.wagtail && window.wagtail.app;
    if (!app || !window.HelpdeskRefreshController) return;

    app.register('helpdesk-overviews', window.HelpdeskRefreshController);
})();
