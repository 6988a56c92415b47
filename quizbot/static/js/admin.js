/* Officers' console, progressive enhancement:
   - visit forms are sent in the background; without signal they wait in localStorage and go
     out when the network is back (each carries its own visit id, so a retry counts once);
   - GPS only when the officer ticks the box (the browser asks for consent);
   - copy and print buttons on the summary page;
   - an import job page polls its status (JSON) once a second, moves the progress bar and
     reloads when the job has finished (without JavaScript the page refreshes itself). */
(function () {
  "use strict";
  var QUEUE_KEY = "qb-visit-queue";

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function readQueue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return []; } }
  function writeQueue(items) { try { localStorage.setItem(QUEUE_KEY, JSON.stringify(items)); } catch (e) { /* full */ } }
  function say(text) { var el = document.getElementById("visit-status"); if (el) { el.textContent = text; } }

  function post(item) {
    var body = new URLSearchParams(item.fields);
    return fetch(item.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": item.fields.csrf_token }
    }).then(function (response) {
      if (response.status >= 500) { throw new Error("server"); }
      return response; // 2xx stored; 4xx will never succeed, so it leaves the queue too
    });
  }

  function flush() {
    var items = readQueue();
    if (!items.length || !navigator.onLine) { return; }
    var next = items[0];
    post(next).then(function (response) {
      writeQueue(readQueue().filter(function (i) { return i.fields.visit_id !== next.fields.visit_id; }));
      var row = document.getElementById("row-" + next.fields.region + "-" + next.fields.household);
      if (response.ok) {
        say("离线记录的走访已上传（" + next.fields.household + "）。");
        if (row) { row.classList.remove("queued"); }
      } else {
        say("有一条离线走访没能保存（" + next.fields.household + "），请重新记录。");
      }
      flush();
    }).catch(function () { /* still offline: try again later */ });
  }

  function setupVisits() {
    $all(".visit-form").forEach(function (form) {
      var gps = form.querySelector(".js-gps");
      if (gps && navigator.geolocation) {
        gps.closest(".js-only").hidden = false;
        gps.addEventListener("change", function () {
          if (!gps.checked) { form.latitude.value = ""; form.longitude.value = ""; return; }
          navigator.geolocation.getCurrentPosition(function (pos) {
            form.latitude.value = pos.coords.latitude.toFixed(6);
            form.longitude.value = pos.coords.longitude.toFixed(6);
          }, function () { gps.checked = false; say("没有取得位置，走访照常记录。"); });
        });
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var fields = {};
        new FormData(form).forEach(function (value, key) { fields[key] = value; });
        fields.visited_at = new Date().toISOString();
        var item = { action: form.action, fields: fields };
        var row = form.closest(".queue-row");
        form.closest("details").open = false;
        if (!navigator.onLine) {
          writeQueue(readQueue().concat([item]));
          if (row) { row.classList.add("queued"); }
          say("现在没有网络，走访已保存在手机上，联网后自动上传。");
          return;
        }
        post(item).then(function (response) {
          if (response.ok) {
            say("走访已记录（" + fields.household + "）。");
            if (row && fields.outcome !== "not_home") { row.hidden = true; }
          } else {
            response.json().then(function (body) {
              say((body.error && body.error.message) || "保存没有成功，请重试。");
            }, function () { say("保存没有成功，请重试。"); });
          }
        }).catch(function () {
          writeQueue(readQueue().concat([item]));
          if (row) { row.classList.add("queued"); }
          say("网络不稳定，走访已保存在手机上，联网后自动上传。");
        });
      });
    });
    window.addEventListener("online", flush);
    flush();
  }

  function setupButtons() {
    $all(".js-copy").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-target"));
      if (!target) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        target.select();
        if (navigator.clipboard) { navigator.clipboard.writeText(target.value); } else { document.execCommand("copy"); }
        button.textContent = "已复制";
      });
    });
    $all(".js-print").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function setupImportProgress() {
    var panel = document.getElementById("import-progress");
    if (!panel || !window.fetch) { return; }
    var bar = document.getElementById("import-bar");
    var text = document.getElementById("import-text");
    var failures = 0;

    function poll() {
      fetch(panel.getAttribute("data-status-url"), {
        credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store"
      }).then(function (response) {
        if (response.redirected || (response.status >= 400 && response.status < 500)) {
          window.location.reload(); // signed out, or the job is gone: the page says which
          return new Promise(function () {});
        }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      }).then(function (body) {
        var job = body.data;
        failures = 0;
        if (!job.running) { window.location.reload(); return; }
        if (job.rows_total) {
          bar.max = job.rows_total;
          bar.value = job.rows_done;
        } else {
          bar.removeAttribute("value"); // no total yet: an indeterminate bar
        }
        bar.textContent = job.percent + "%";
        text.textContent = job.text;
        window.setTimeout(poll, 1000);
      }).catch(function () {
        failures += 1;
        text.textContent = "暂时连不上服务器，正在重试……（导入在服务器上继续进行）";
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
    }
    window.setTimeout(poll, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupVisits();
    setupButtons();
    setupImportProgress();
  });
}());
