// Citizens' forms, better with JavaScript (they work without it):
// - focus the error summary when a step comes back with errors;
// - offer only the chosen category's services;
// - the report's map: click to place the pin (fills latitude/longitude),
//   "use my position", bounded to the municipality's box.
(function () {
    'use strict';
    if (window.helpdeskFormsLoaded) { return; }
    window.helpdeskFormsLoaded = true;

    function focusErrors(root) {
        var box = root.querySelector('[data-helpdesk-errors]');
        if (box) { box.focus(); }
    }

    function filterServices(root) {
        var category = root.querySelector('[data-helpdesk-categories]');
        var service = root.querySelector('[data-helpdesk-services]');
        if (!category || !service) { return; }
        function apply() {
            var chosen = category.options[category.selectedIndex];
            var label = chosen && chosen.value ? chosen.text : null;
            Array.prototype.forEach.call(service.querySelectorAll('optgroup'), function (group) {
                var show = !label || group.label === label;
                group.hidden = !show;
                group.disabled = !show;
            });
            var current = service.options[service.selectedIndex];
            if (current && current.parentNode.tagName === 'OPTGROUP' && current.parentNode.disabled) {
                service.value = '';
            }
        }
        category.addEventListener('change', apply);
        apply();
    }

    function mapPicker(root) {
        var box = root.querySelector('[data-helpdesk-map-picker]');
        if (!box || !window.L) { return; }
        var lat = document.getElementById(box.getAttribute('data-lat-input'));
        var lng = document.getElementById(box.getAttribute('data-lng-input'));
        var status = box.querySelector('[data-helpdesk-map-status]');
        box.hidden = false;
        var bbox = (box.getAttribute('data-bbox') || '').split(',').map(parseFloat);
        var centre = [parseFloat(box.getAttribute('data-centre-lat')), parseFloat(box.getAttribute('data-centre-lng'))];
        var zoom = parseInt(box.getAttribute('data-zoom'), 10) || 14;
        if (isNaN(centre[0]) && bbox.length === 4 && !isNaN(bbox[0])) {
            centre = [(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2];
        }
        if (isNaN(centre[0])) { centre = [41.9028, 12.4964]; zoom = 6; }
        var map = window.L.map(box.querySelector('.helpdesk-map'));
        window.L.tileLayer(box.getAttribute('data-tiles'), {
            maxZoom: parseInt(box.getAttribute('data-max-zoom'), 10) || 19,
            attribution: box.getAttribute('data-attribution')
        }).addTo(map);
        if (bbox.length === 4 && !isNaN(bbox[0])) {
            var bounds = window.L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
            map.setMaxBounds(bounds.pad(0.2));
        }
        var marker = null;
        function place(point, announce) {
            var p = window.L.latLng(point);
            if (marker) { marker.setLatLng(p); } else { marker = window.L.marker(p).addTo(map); }
            lat.value = p.lat.toFixed(6);
            lng.value = p.lng.toFixed(6);
            box.setAttribute('data-pinned', '');
            if (announce && status) {
                status.textContent = box.getAttribute('data-pinned-text') || (lat.value + ', ' + lng.value);
            }
        }
        var start = [parseFloat(lat.value), parseFloat(lng.value)];
        if (!isNaN(start[0]) && !isNaN(start[1])) {
            map.setView(start, 17);
            place(start, false);
        } else {
            map.setView(centre, zoom);
        }
        map.on('click', function (event) { place(event.latlng, true); });
        var locate = box.querySelector('[data-helpdesk-locate]');
        if (locate && navigator.geolocation) {
            locate.addEventListener('click', function () {
                navigator.geolocation.getCurrentPosition(function (position) {
                    var point = [position.coords.latitude, position.coords.longitude];
                    map.setView(point, 17);
                    place(point, true);
                });
            });
        } else if (locate) {
            locate.hidden = true;
        }
    }

    document.addEventListener('DOMContentLoaded', function () {
        document.querySelectorAll('[data-helpdesk-form]').forEach(function (root) {
            focusErrors(root);
            filterServices(root);
            mapPicker(root);
        });
    });
})();
