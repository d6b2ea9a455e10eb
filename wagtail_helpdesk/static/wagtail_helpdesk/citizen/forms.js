// Citizens' forms, better with JavaScript (they work without it):
// - after a step is posted, focus the error summary, else the step's (or the
//   confirmation's) heading: the same element the redirect's fragment names,
//   so the browser's own fragment focus does not take it away;
// - offer only the chosen category's services;
// - the report's map: click to place the pin (fills latitude/longitude),
//   "use my position", bounded to the municipality's box;
// - address search and the address of the pin (server-side geocoding proxy);
// - open reports of the same type near the pin.
(function () {
    'use strict';
    if (window.helpdeskFormsLoaded) { return; }
    window.helpdeskFormsLoaded = true;

    function focusStep(root) {
        var hash = decodeURIComponent(window.location.hash.slice(1));
        if (hash && hash !== root.id && hash.indexOf(root.id + '-') !== 0) { return; }  // another form's
        var target = root.querySelector('[data-helpdesk-errors]');
        if (!target && hash) { target = root.querySelector('[data-helpdesk-focus]'); }
        if (target) { target.focus(); }
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

    function getJSON(url, done) {
        var request = new XMLHttpRequest();
        request.open('GET', url);
        request.setRequestHeader('Accept', 'application/json');
        request.onload = function () {
            var data = null;
            try { data = JSON.parse(request.responseText); } catch (e) { data = null; }
            done(request.status, data || {});
        };
        request.onerror = function () { done(0, {}); };
        request.send();
    }

    function withQuery(url, params) {
        var parts = Object.keys(params).map(function (key) {
            return encodeURIComponent(key) + '=' + encodeURIComponent(params[key]);
        });
        return url + (url.indexOf('?') < 0 ? '?' : '&') + parts.join('&');
    }

    // The map: click to place the pin (fills latitude/longitude), "use my
    // position", bounded to the municipality's box. Returns {place, onPlace}.
    function mapPicker(root) {
        var box = root.querySelector('[data-helpdesk-map-picker]');
        if (!box || !window.L) { return null; }
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
        var map = window.L.map(box.querySelector('.helpdesk-map'), {zoomControl: false});
        window.L.control.zoom({  // Leaflet's own titles are English
            zoomInTitle: box.getAttribute('data-zoom-in-text') || 'Zoom in',
            zoomOutTitle: box.getAttribute('data-zoom-out-text') || 'Zoom out'
        }).addTo(map);
        window.L.tileLayer(box.getAttribute('data-tiles'), {
            maxZoom: parseInt(box.getAttribute('data-max-zoom'), 10) || 19,
            attribution: box.getAttribute('data-attribution')
        }).addTo(map);
        if (bbox.length === 4 && !isNaN(bbox[0])) {
            var bounds = window.L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
            map.setMaxBounds(bounds.pad(0.2));
        }
        var marker = null;
        var listeners = [];
        function place(point, announce, source) {
            var p = window.L.latLng(point);
            if (marker) { marker.setLatLng(p); } else { marker = window.L.marker(p).addTo(map); }
            lat.value = p.lat.toFixed(6);
            lng.value = p.lng.toFixed(6);
            box.setAttribute('data-pinned', '');
            if (announce && status) {
                status.textContent = box.getAttribute('data-pinned-text') || (lat.value + ', ' + lng.value);
            }
            listeners.forEach(function (listener) { listener(p, source); });
        }
        var start = [parseFloat(lat.value), parseFloat(lng.value)];
        if (!isNaN(start[0]) && !isNaN(start[1])) {
            map.setView(start, 17);
            place(start, false, 'initial');
        } else {
            map.setView(centre, zoom);
        }
        map.on('click', function (event) { place(event.latlng, true, 'map'); });
        var locate = box.querySelector('[data-helpdesk-locate]');
        if (locate && navigator.geolocation) {
            locate.addEventListener('click', function () {
                navigator.geolocation.getCurrentPosition(function (position) {
                    var point = [position.coords.latitude, position.coords.longitude];
                    map.setView(point, 17);
                    place(point, true, 'map');
                });
            });
        } else if (locate) {
            locate.hidden = true;
        }
        return {
            map: map,
            place: function (point, source) { map.setView(point, 17); place(point, true, source); },
            onPlace: function (listener) {
                listeners.push(listener);
                if (marker) { listener(marker.getLatLng(), 'initial'); }
            }
        };
    }

    // Address search (an explicit button, no search-as-you-type) and the
    // address of a pin dropped on the map, through the server's proxy.
    function geocoder(root, picker) {
        var box = root.querySelector('[data-helpdesk-geocode]');
        var mapBox = root.querySelector('[data-helpdesk-map-picker]');
        if (!box || !picker || !mapBox) { return; }
        var address = document.getElementById(mapBox.getAttribute('data-address-input'));
        var button = box.querySelector('[data-helpdesk-geocode-search]');
        var status = box.querySelector('[data-helpdesk-geocode-status]');
        var list = box.querySelector('[data-helpdesk-geocode-results]');
        var autofilled = false;
        box.hidden = false;
        address.addEventListener('input', function () { autofilled = false; });
        address.addEventListener('keydown', function (event) {
            if (event.key === 'Enter') { event.preventDefault(); button.click(); }
        });
        button.addEventListener('click', function () {
            var query = address.value.trim();
            list.innerHTML = '';
            if (query.length < 3) { address.focus(); return; }
            status.textContent = box.getAttribute('data-searching-text');
            getJSON(withQuery(box.getAttribute('data-search-url'), {q: query}), function (code, data) {
                var results = data.results || [];
                if (code !== 200) {
                    status.textContent = data.error || '';
                    return;
                }
                status.textContent = box.getAttribute(results.length ? 'data-found-text' : 'data-none-text');
                results.forEach(function (result) {
                    var item = document.createElement('li');
                    var choose = document.createElement('button');
                    choose.type = 'button';
                    choose.className = 'btn btn-link p-0 text-start';
                    choose.textContent = result.label;
                    choose.addEventListener('click', function () {
                        address.value = result.label;
                        autofilled = false;
                        list.innerHTML = '';
                        status.textContent = box.getAttribute('data-chosen-text');
                        picker.place([result.lat, result.lng], 'search');
                    });
                    item.appendChild(choose);
                    list.appendChild(item);
                });
            });
        });
        var asked = 0;
        var timer = null;
        picker.onPlace(function (point, source) {
            if (source !== 'map' || (address.value.trim() && !autofilled)) { return; }
            var mine = ++asked;  // only the latest pin's answer counts
            window.clearTimeout(timer);
            timer = window.setTimeout(function () {
                getJSON(withQuery(box.getAttribute('data-reverse-url'), {lat: point.lat.toFixed(5), lng: point.lng.toFixed(5)}), function (code, data) {
                    if (mine === asked && code === 200 && data.result && (!address.value.trim() || autofilled)) {
                        address.value = data.result.label;
                        autofilled = true;
                    }
                });
            }, 600);
        });
    }

    // Open reports of the same type near the pin.
    function nearby(root, picker) {
        var box = root.querySelector('[data-helpdesk-nearby]');
        if (!box || !picker) { return; }
        var category = document.getElementById(box.getAttribute('data-category-input'));
        var list = box.querySelector('[data-helpdesk-nearby-list]');
        var layer = window.L.layerGroup().addTo(picker.map);
        var point = null;
        var lang = document.documentElement.lang || undefined;
        function refresh() {
            layer.clearLayers();
            if (!point || !category || !category.value) { box.hidden = true; return; }
            var url = withQuery(box.getAttribute('data-url'), {
                category: category.value, lat: point.lat.toFixed(6), lng: point.lng.toFixed(6)});
            getJSON(url, function (code, data) {
                var results = (code === 200 && data.results) || [];
                list.innerHTML = '';
                results.forEach(function (report) {
                    var item = document.createElement('li');
                    var date = new Date(report.submitted_at + 'T12:00:00');
                    var values = {category: report.category, distance: report.distance,
                        date: date.toLocaleDateString(lang), status: report.status_label};
                    item.textContent = box.getAttribute('data-item-text').replace(
                        /\{(category|distance|date|status)\}/g,
                        function (match, key) { return String(values[key]); });
                    list.appendChild(item);
                    // Decorative (the list says it all); clicks go through to the map.
                    window.L.circleMarker([report.lat, report.lng],
                        {radius: 7, color: '#a66300', interactive: false}).addTo(layer);
                });
                box.hidden = results.length === 0;
            });
        }
        picker.onPlace(function (p) { point = p; refresh(); });
        if (category) { category.addEventListener('change', refresh); }
    }

    document.addEventListener('DOMContentLoaded', function () {
        document.querySelectorAll('[data-helpdesk-form]').forEach(function (root) {
            focusStep(root);
            filterServices(root);
            var picker = mapPicker(root);
            geocoder(root, picker);
            nearby(root, picker);
        });
    });
})();
