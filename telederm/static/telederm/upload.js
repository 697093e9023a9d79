// Photo upload for the referral wizard: one request per photo with a progress bar.
// Each file gets its own upload id; after a dropped connection the same request is sent again
// and the server answers with the photo it already has, so nothing is stored twice.
(function () {
  "use strict";
  const MAX_TRIES = 6;
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

  function send(box, file, kind, uploadId, view, attempt) {
    const xhr = new XMLHttpRequest();
    const data = new FormData();
    data.append("file", file);
    data.append("kind", kind);
    data.append("upload_id", uploadId);
    xhr.open("POST", box.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", box.dataset.csrf);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        view.bar.value = Math.round((event.loaded / event.total) * 100);
        if (event.loaded === event.total) view.label.textContent = box.dataset.msgChecking;
      }
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 200 || xhr.status === 201 || xhr.status === 413 || xhr.status === 422 || xhr.status === 400) {
        const holder = document.createElement("div");
        holder.innerHTML = xhr.responseText;
        const node = holder.firstElementChild;
        pending -= 1;
        URL.revokeObjectURL(view.img.src);
        if (node) {
          view.card.replaceWith(node);
          if (window.htmx) window.htmx.process(node);
        }
        return;
      }
      retry(box, file, kind, uploadId, view, attempt);
    });
    xhr.addEventListener("error", () => retry(box, file, kind, uploadId, view, attempt));
    xhr.addEventListener("timeout", () => retry(box, file, kind, uploadId, view, attempt));
    xhr.timeout = 120000;
    xhr.send(data);
  }

  function retry(box, file, kind, uploadId, view, attempt) {
    // The card says in words and colour that this photo is not safe yet.
    view.card.classList.add("image-card--retrying");
    if (attempt + 1 >= MAX_TRIES) {
      view.card.classList.add("image-card--failed");
      view.label.textContent = box.dataset.msgFailed;
      const again = document.createElement("button");
      again.type = "button";
      again.className = "button";
      again.textContent = box.dataset.msgRetry;
      again.addEventListener("click", () => {
        again.remove();
        view.card.classList.remove("image-card--failed");
        view.label.textContent = box.dataset.msgUploading;
        send(box, file, kind, uploadId, view, 0);
      });
      view.card.querySelector("figcaption").append(again);
      return;
    }
    view.label.textContent = box.dataset.msgRetrying;
    const wait = Math.min(1000 * 2 ** attempt, 15000);
    const go = () => send(box, file, kind, uploadId, view, attempt + 1);
    if (!navigator.onLine) {
      window.addEventListener("online", go, { once: true });
    } else {
      window.setTimeout(go, wait);
    }
  }

  function setup(box) {
    const grid = document.getElementById("images");
    box.querySelectorAll("input[type=file]").forEach((input) => {
      input.addEventListener("change", () => {
        Array.from(input.files || []).forEach((file) => {
          const view = placeholder(grid, file, input.dataset.kind, box.dataset.msgUploading);
          pending += 1;
          send(box, file, input.dataset.kind, newId(), view, 0);
        });
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
