// The build's progress page: refresh the figures every second; open the console when the city is ready.
(function () {
  "use strict";
  function poll() {
    fetch("/console/progress", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (f) {
        if (f.ready) { window.location.reload(); return; }
        document.getElementById("build-bar").value = f.percent;
        document.getElementById("build-percent").textContent = f.percent;
        document.getElementById("build-step").textContent = f.step;
        document.getElementById("build-label").textContent = f.label;
        document.getElementById("build-events").textContent = f.events;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
})();
