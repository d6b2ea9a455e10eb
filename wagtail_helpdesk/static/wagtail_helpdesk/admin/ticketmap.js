/*
 * The report's place on a map, with the Leaflet shipped with the app
 * (Stimulus controller "helpdesk-ticket-map", registered with Wagtail's own
 * Stimulus app; load vendor/leaflet-1.9.4/leaflet.js before this file).
 *
 * Without JavaScript the page shows the address, the coordinates and a link.
 * Once the map is drawn the element gets a data-map-ready attribute.
 *
 * <div data-controller="helpdesk-ticket-map"
 *      data-helpdesk-ticket-map-latitude-value="45.07"
 *      data-helpdesk-ticket-map-longitude-value="7.68"
 *      data-helpdesk-ticket-map-tiles-value="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
 *      data-helpdesk-ticket-map-attribution-value="© OpenStreetMap"
 *      data-helpdesk-ticket-map-max-zoom-value="19"></div>
 */
(() => {
    'use strict';

    const stimulus = window.StimulusModule;
    const app = window.wagtail && window.wagtail.app;
    if (!stimulus || !app) return;

    class TicketMapController extends stimulus.Controller {
        static values = {
            latitude: Number,
            longitude: Number,
            /** The tile layer's URL template. */
            tiles: String,
            attribution: String,
            maxZoom: { type: Number, default: 19 },
        };

        connect() {
            const L = window.L;
            const lat = this.latitudeValue;
            const lng = this.longitudeValue;
            if (!L || !this.hasLatitudeValue || !this.hasLongitudeValue) return;
            if (!Number.isFinite(lat) || !Number.isFinite(lng)) return;

            this.map = L.map(this.element, { scrollWheelZoom: false }).setView([lat, lng], 17);
            L.tileLayer(this.tilesValue, {
                maxZoom: this.maxZoomValue || 19,
                attribution: this.attributionValue,
            }).addTo(this.map);
            L.marker([lat, lng], { keyboard: false }).addTo(this.map);
            this.element.setAttribute('data-map-ready', '');
        }

        disconnect() {
            if (!this.map) return;
            this.map.remove();
            this.map = null;
            this.element.removeAttribute('data-map-ready');
        }
    }

    app.register('helpdesk-ticket-map', TicketMapController);
})();
