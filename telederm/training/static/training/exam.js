// Licence exam: show the time left and send the answers by themselves when the time is up;
// ask before sending with unanswered questions; a sent form cannot be sent twice from here.
// The server decides in the end: answers that arrive after the deadline (plus a short grace
// for the network) are refused, and a second submission changes nothing.
(function () {
  "use strict";
  const form = document.getElementById("exam-form");
  if (!form) return;
  const timer = document.getElementById("exam-timer");
  let sent = false;

  function send() {
    sent = true;
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  }

  function unanswered() {
    return Array.from(form.querySelectorAll("fieldset")).filter(
      (fieldset) => !fieldset.querySelector("input:checked"),
    ).length;
  }

  form.addEventListener("submit", (event) => {
    if (sent) {
      event.preventDefault();
      return;
    }
    if (unanswered() > 0 && !window.confirm(form.dataset.msgUnanswered)) {
      event.preventDefault();
      return;
    }
    send();
  });

  if (!timer) return;
  const clock = timer.querySelector(".exam-timer__clock");
  const end = Date.now() + Number(timer.dataset.remaining || 0) * 1000;

  function pad(n) { return String(n).padStart(2, "0"); }

  function tick() {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    clock.textContent = `${timer.dataset.msgLeft} ${Math.floor(left / 60)}:${pad(left % 60)}`;
    if (left <= 300) timer.classList.add("exam-timer--soon");
    if (left === 0) {
      if (!sent) {
        clock.textContent = timer.dataset.msgUp;
        clock.setAttribute("aria-hidden", "false");
        clock.setAttribute("role", "alert");
        send();
        form.submit(); // no submit event: the time is up, unanswered or not
      }
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
