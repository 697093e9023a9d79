// Dermoscopy viewer on the case page: viewer.js (from the npm registry) shows the original
// photos with zoom and pan (wheel, pinch, drag). The keys follow UX.md: ←/→ photos, +/− zoom,
// 0 fit, 1 actual size.
(function () {
  "use strict";
  if (typeof window.Viewer !== "function") return;
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
    gallery.addEventListener("viewed", () => { open = true; });
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
