// Ticket page: the report's place on a map (Leaflet shipped with the app).
// Without JavaScript the page shows the address, the coordinates and a link.
(function () {
    'use strict';

    document.addEventListener('DOMContentLoaded', function () {
        if (!window.L) {
            return;
        }
        document.querySelectorAll('[data-helpdesk-map]').forEach(function (box) {
            var lat = parseFloat(box.getAttribute('data-latitude'));
            var lng = parseFloat(box.getAttribute('data-longitude'));
            if (isNaN(lat) || isNaN(lng)) {
                return;
            }
            var map = window.L.map(box, { scrollWheelZoom: false }).setView([lat, lng], 17);
            window.L.tileLayer(box.getAttribute('data-tiles'), {
                maxZoom: parseInt(box.getAttribute('data-max-zoom'), 10) || 19,
                attribution: box.getAttribute('data-attribution'),
            }).addTo(map);
            window.L.marker([lat, lng], { keyboard: false }).addTo(map);
            box.setAttribute('data-map-ready', '');
        });
    });
})();
