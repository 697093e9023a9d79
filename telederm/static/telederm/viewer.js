// Dermoscopy viewer on the case page: viewer.js (from the npm registry) shows the original
// photos with zoom and pan (wheel, pinch, drag). The keys follow UX.md: ←/→ photos, +/− zoom,
// 0 fit, 1 actual size.
(function () {
  "use strict";
  if (typeof window.Viewer !== "function") return;

  // viewer.js draws its toolbar as unnamed role=button items in a list and marks the current
  // thumbnail with aria-selected, which buttons may not carry. Name the buttons in the page's
  // language (data-label-* on the gallery), make the list a toolbar, and say "current" instead.
  const BUTTONS = {
    "zoom-in": "labelZoomIn", "zoom-out": "labelZoomOut", "one-to-one": "labelOneToOne",
    reset: "labelReset", prev: "labelPrev", next: "labelNext",
  };

  function label(element, text) {
    if (!element || !text) return;
    element.setAttribute("aria-label", text);
    element.setAttribute("title", text);
  }

  function repair(gallery, container) {
    if (!container) return;
    const toolbar = container.querySelector(".viewer-toolbar > ul");
    if (toolbar) {
      toolbar.setAttribute("role", "toolbar");
      label(toolbar, gallery.dataset.labelToolbar);
      toolbar.removeAttribute("title");
    }
    for (const [action, key] of Object.entries(BUTTONS)) {
      container.querySelectorAll(`.viewer-toolbar .viewer-${action}`).forEach((item) => {
        label(item, gallery.dataset[key]);
      });
    }
    label(container.querySelector(".viewer-navigation .viewer-prev"), gallery.dataset.labelPrev);
    label(container.querySelector(".viewer-navigation .viewer-next"), gallery.dataset.labelNext);
    label(container.querySelector(".viewer-button[data-viewer-action=mix]"), gallery.dataset.labelClose);
    container.querySelectorAll(".viewer-list > li").forEach((item) => {
      if (item.hasAttribute("aria-selected")) {
        item.removeAttribute("aria-selected");
        item.setAttribute("aria-current", "true");
      } else {
        item.removeAttribute("aria-current");
      }
    });
  }

  document.querySelectorAll("[data-viewer]").forEach((gallery) => {
    const viewer = new window.Viewer(gallery, {
      url: "data-original",
      navbar: true,
      title: [1, (image) => image.alt],
      toolbar: {
        zoomIn: 1, zoomOut: 1, oneToOne: 1, reset: 1, prev: 1, next: 1,
        rotateLeft: 0, rotateRight: 0, flipHorizontal: 0, flipVertical: 0, play: 0,
      },
      keyboard: true,
      transition: false,
      zoomRatio: 0.25,
      maxZoomRatio: 8,
    });
    let open = false;
    gallery.addEventListener("ready", () => repair(gallery, viewer.viewer));
    gallery.addEventListener("viewed", () => {
      open = true;
      repair(gallery, viewer.viewer);
    });
    gallery.addEventListener("hidden", () => { open = false; });
    gallery.querySelectorAll("a[data-viewer-open]").forEach((link, index) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        viewer.view(index);
      });
    });
    document.addEventListener("keydown", (event) => {
      if (!open || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "+" || event.key === "=") viewer.zoom(0.25);
      else if (event.key === "-") viewer.zoom(-0.25);
      else if (event.key === "0") viewer.reset();
      else if (event.key === "1") viewer.zoomTo(1);
      else return;
      event.preventDefault();
    });
  });
})();
