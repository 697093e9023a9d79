// Photo upload for the referral wizard, with a progress bar.
// Each file gets its own upload id; after a dropped connection the same request is sent again
// and the server answers with the photo it already has, so nothing is stored twice.
// A photo larger than one piece (data-chunk-bytes, where the page offers data-chunk-url) goes
// in pieces: a lost piece is sent again on its own instead of the whole photo, and any app
// server may receive any piece. The server answers each piece but the last with 202 and the
// pieces it still lacks, and the last one with the photo's card, as for a whole upload.
(function () {
  "use strict";
  const MAX_TRIES = 6;
  const MAX_ROUNDS = 3; // times the pieces the server reports missing are sent again
  const FINAL = [200, 201, 400, 409, 413, 422, 429];
  let pending = 0;

  // Leaving the page while a photo is still on its way would lose it: ask first.
  window.addEventListener("beforeunload", (event) => {
    if (pending > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function placeholder(grid, file, kind, text) {
    const card = document.createElement("figure");
    card.className = "image-card image-card--pending";
    const img = document.createElement("img");
    img.alt = "";
    img.width = 160;
    img.height = 160;
    img.src = URL.createObjectURL(file);
    const caption = document.createElement("figcaption");
    const label = document.createElement("p");
    label.className = "small";
    label.textContent = text;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    caption.append(label, bar);
    card.append(img, caption);
    card.dataset.kind = kind;
    grid.prepend(card);
    return { card, label, bar, img };
  }

  function post(job, url, data, onProgress) {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", job.box.dataset.csrf);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.timeout = 120000;
    return xhr;
  }

  // The server's answer replaces the placeholder: the photo's card, or what went wrong.
  function finish(job, html) {
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const node = holder.firstElementChild;
    pending -= 1;
    URL.revokeObjectURL(job.view.img.src);
    if (node) {
      job.view.card.replaceWith(node);
      if (window.htmx) window.htmx.process(node);
    }
  }

  function progress(job, fraction) {
    job.view.bar.value = Math.round(fraction * 100);
  }

  // --- the whole photo in one request ---------------------------------------------------------

  function sendWhole(job, attempt) {
    const data = new FormData();
    data.append("file", job.file);
    data.append("kind", job.kind);
    data.append("upload_id", job.uploadId);
    const xhr = post(job, job.box.dataset.uploadUrl, data, (fraction) => {
      progress(job, fraction);
      if (fraction >= 1) job.view.label.textContent = job.box.dataset.msgChecking;
    });
    const again = () => retry(job, attempt, (next) => sendWhole(job, next));
    xhr.addEventListener("load", () => {
      if (FINAL.includes(xhr.status)) finish(job, xhr.responseText);
      else again();
    });
    xhr.addEventListener("error", again);
    xhr.addEventListener("timeout", again);
    xhr.send(data);
  }

  // --- the photo in pieces --------------------------------------------------------------------

  function sendPiece(job, attempt) {
    const size = job.chunkBytes;
    const index = job.queue[0];
    const start = index * size;
    const end = Math.min(job.file.size, start + size);
    const last = job.queue.length === 1;
    const data = new FormData();
    data.append("chunk", job.file.slice(start, end), "chunk");
    data.append("kind", job.kind);
    data.append("upload_id", job.uploadId);
    data.append("offset", String(start));
    data.append("total", String(job.file.size));
    const xhr = post(job, job.box.dataset.chunkUrl, data, (fraction) => {
      progress(job, (job.sent + (end - start) * fraction) / job.file.size);
      if (last && fraction >= 1) job.view.label.textContent = job.box.dataset.msgChecking;
    });
    const again = () => retry(job, attempt, (next) => sendPiece(job, next));
    xhr.addEventListener("load", () => {
      if (FINAL.includes(xhr.status)) {
        finish(job, xhr.responseText);
        return;
      }
      if (xhr.status !== 202) {
        again();
        return;
      }
      // This piece is safe on the server: on to the next one.
      job.view.card.classList.remove("image-card--retrying");
      job.view.label.textContent = job.box.dataset.msgUploading;
      job.sent += end - start;
      job.queue.shift();
      if (job.queue.length === 0) {
        let missing = [];
        try {
          missing = JSON.parse(xhr.responseText).missing || [];
        } catch (error) {
          missing = [];
        }
        if (missing.length === 0 || job.rounds >= MAX_ROUNDS) {
          fail(job, () => startPieces(job));
          return;
        }
        // The server lost or never got some pieces (a sweep, a full disk): send those again.
        job.rounds += 1;
        job.queue = missing.slice();
        job.sent = job.file.size - missing.length * size;
      }
      sendPiece(job, 0);
    });
    xhr.addEventListener("error", again);
    xhr.addEventListener("timeout", again);
    xhr.send(data);
  }

  function startPieces(job) {
    const count = Math.ceil(job.file.size / job.chunkBytes);
    job.queue = Array.from({ length: count }, (_, index) => index);
    job.sent = 0;
    job.rounds = 0;
    sendPiece(job, 0);
  }

  // --- retries ---------------------------------------------------------------------------------

  function fail(job, resend) {
    const view = job.view;
    view.card.classList.add("image-card--failed");
    view.label.textContent = job.box.dataset.msgFailed;
    const again = document.createElement("button");
    again.type = "button";
    again.className = "button";
    again.textContent = job.box.dataset.msgRetry;
    again.addEventListener("click", () => {
      again.remove();
      view.card.classList.remove("image-card--failed");
      view.label.textContent = job.box.dataset.msgUploading;
      resend();
    });
    view.card.querySelector("figcaption").append(again);
  }

  function retry(job, attempt, resend) {
    // The card says in words and colour that this photo is not safe yet.
    job.view.card.classList.add("image-card--retrying");
    if (attempt + 1 >= MAX_TRIES) {
      fail(job, () => resend(0));
      return;
    }
    job.view.label.textContent = job.box.dataset.msgRetrying;
    const wait = Math.min(1000 * 2 ** attempt, 15000);
    const go = () => resend(attempt + 1);
    if (!navigator.onLine) {
      window.addEventListener("online", go, { once: true });
    } else {
      window.setTimeout(go, wait);
    }
  }

  function start(box, grid, file, kind) {
    const view = placeholder(grid, file, kind, box.dataset.msgUploading);
    const chunkBytes = Number(box.dataset.chunkBytes || 0);
    const job = { box, file, kind, view, chunkBytes, uploadId: newId() };
    pending += 1;
    if (box.dataset.chunkUrl && chunkBytes > 0 && file.size > chunkBytes) {
      startPieces(job);
    } else {
      sendWhole(job, 0);
    }
  }

  function setup(box) {
    const grid = document.getElementById("images");
    box.querySelectorAll("input[type=file]").forEach((input) => {
      input.addEventListener("change", () => {
        Array.from(input.files || []).forEach((file) => start(box, grid, file, input.dataset.kind));
        input.value = "";
      });
    });
  }

  document.querySelectorAll(".capture[data-upload-url]").forEach(setup);

  // A sent form disables its button so that a double tap cannot send twice from this page.
  document.querySelectorAll("form button[data-once]").forEach((button) => {
    button.form.addEventListener("submit", () => {
      window.setTimeout(() => { button.disabled = true; }, 0);
    });
  });
})();
