// The phone page fills longitude/latitude from the device's position; without it (denied, no
// GPS, plain http on a phone) the manual fields open so the worker types an address.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var status = document.getElementById("gps-status");
    var manual = document.getElementById("manual-location");
    var lng = form.querySelector("[name=lng]"), lat = form.querySelector("[name=lat]");
    function fallback(message) {
      status.textContent = message;
      manual.open = true;
    }
    if (lng.value && lat.value) { status.textContent = lng.value + ", " + lat.value; return; }
    if (!navigator.geolocation) { fallback(status.dataset.noGps || "—"); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      lng.value = pos.coords.longitude.toFixed(6);
      lat.value = pos.coords.latitude.toFixed(6);
      status.textContent = "GPS " + lng.value + ", " + lat.value + " (±" + Math.round(pos.coords.accuracy) + " m)";
    }, function () {
      fallback(status.dataset.noGps || "—");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
})();
