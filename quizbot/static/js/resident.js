/* Resident pages, progressive enhancement (everything also works without this script):
   - the quiz shows one question per screen with 上一题/下一题 and "3 / 10";
   - chosen answers and the current question are kept in localStorage until submitted, so a
     reload, a lost connection or a locked phone resumes where the resident was;
   - submitting without signal waits and retries when the network is back (the server counts
     a submission once, so a retry can never count twice);
   - the "复制" button on the result page. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function setupCopy() {
    $all(".js-copy").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-target"));
      if (!target) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        function done() { button.textContent = "已复制"; }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(target.value).then(done, function () { target.select(); });
        } else {
          target.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
        }
      });
    });
  }

  function setupQuiz() {
    var form = document.getElementById("quiz");
    if (!form) { return; }
    var storeKey = "qb-quiz-" + form.getAttribute("data-session");
    var steps = $all(".question", form);
    var submitBox = document.getElementById("submit-box");
    var status = document.getElementById("quiz-status");
    var current = 0;
    var sending = false;

    function load() {
      try { return JSON.parse(window.localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
    }
    function save() {
      var answers = {};
      $all("input:checked", form).forEach(function (input) {
        (answers[input.name] = answers[input.name] || []).push(input.value);
      });
      try { window.localStorage.setItem(storeKey, JSON.stringify({ answers: answers, step: current })); } catch (e) { /* private mode: no resume */ }
    }
    function say(text) { status.textContent = text || ""; }
    function answered(step) { return !!$("input:checked", step); }
    function show(index, focus) {
      current = Math.max(0, Math.min(index, steps.length - 1));
      steps.forEach(function (step, i) { step.classList.toggle("current", i === current); });
      submitBox.classList.toggle("current", current === steps.length - 1);
      if (focus) {
        steps[current].setAttribute("tabindex", "-1");
        steps[current].focus();
        window.scrollTo(0, 0);
      }
      save();
    }

    var saved = load();
    if (saved.answers) {
      $all("input[type=radio], input[type=checkbox]", form).forEach(function (input) {
        var values = saved.answers[input.name];
        if (values && values.indexOf(input.value) !== -1) { input.checked = true; }
      });
    }
    var firstMissing = steps.findIndex(function (step) { return step.classList.contains("missing"); });
    show(firstMissing >= 0 ? firstMissing : (saved.step || 0), false);

    $all(".js-prev, .js-next", form).forEach(function (button) { button.hidden = false; });
    form.addEventListener("change", function () { say(""); save(); });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.classList.contains("js-prev")) { say(""); show(current - 1, true); }
      if (button.classList.contains("js-next")) {
        if (!answered(steps[current])) { say("请先选择一个答案，再点“下一题”。"); return; }
        say("");
        show(current + 1, true);
      }
    });

    function send() {
      if (sending) { return; }
      sending = true;
      say("正在提交…");
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          sending = false;
          if (response.ok) {
            try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing to clear */ }
            window.location.assign(response.url);
          } else if (response.status === 422) {
            say("还有题目没有作答，请检查后再提交。");
          } else {
            say("提交没有成功，请稍后再试；答案已保存在手机上。");
          }
        })
        .catch(function () {
          sending = false;
          say("网络断开了。答案已保存在手机上，联网后会自动提交，请不要关闭页面。");
          window.addEventListener("online", send, { once: true });
          window.setTimeout(function () { if (navigator.onLine) { send(); } }, 5000);
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var missing = steps.findIndex(function (step) { return !answered(step); });
      if (missing >= 0) {
        say("第 " + (missing + 1) + " 题还没有作答。");
        show(missing, true);
        return;
      }
      save();
      send();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCopy();
    setupQuiz();
  });
}());
