// Body map for the referral wizard (referrals/includes/bodymap.html).
// The <select> elements are the truth and what the form posts; the map only sets and shows them.
// Click, Enter or Space on a region chooses its site; a paired region also sets the side
// (data-side is the PATIENT's side, already mirrored for the front view in the markup).
(function () {
  "use strict";
  if (window.teledermBodymap) return;
  const SIDES = ["R", "L"];

  function init(root) {
    if (root.dataset.bodymapReady) return;
    const siteSelect = document.getElementById(root.dataset.siteSelect);
    const sideSelect = document.getElementById(root.dataset.sideSelect);
    if (!siteSelect) return;
    root.dataset.bodymapReady = "1";
    const regions = Array.from(root.querySelectorAll(".bodymap__region[data-site]"));
    const status = root.querySelector("[data-bodymap-status]");
    const help = root.querySelector("[data-bodymap-side-help]");
    if (sideSelect && help && help.id) {
      const described = (sideSelect.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!described.includes(help.id)) described.push(help.id);
      sideSelect.setAttribute("aria-describedby", described.join(" "));
    }

    function optionText(select) {
      const option = select && select.selectedOptions[0];
      return option && option.value ? option.textContent.trim() : "";
    }

    function paired(code) {
      return regions.some((region) => region.dataset.site === code && region.dataset.side);
    }

    function render() {
      const code = siteSelect.value;
      const side = sideSelect ? sideSelect.value : "";
      for (const region of regions) {
        const chosen =
          region.dataset.site === code &&
          (!region.dataset.side || !SIDES.includes(side) || region.dataset.side === side);
        region.classList.toggle("is-selected", chosen);
        region.setAttribute("aria-pressed", chosen ? "true" : "false");
      }
      if (!status) return;
      if (!code) {
        status.textContent = root.dataset.textNone;
        status.classList.remove("is-chosen");
        return;
      }
      let text = `${root.dataset.textChosen} ${optionText(siteSelect)}`;
      if (paired(code)) {
        if (sideSelect && side && side !== "U") text += ` – ${optionText(sideSelect)}`;
        else text += `. ${root.dataset.textSideMissing}`;
      }
      status.textContent = text;
      status.classList.add("is-chosen");
    }

    function set(select, value) {
      if (!select || select.value === value) return;
      select.value = value;
      // Let htmx and other listeners (autosave) notice, as if the user had changed the select.
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function choose(region) {
      const side = region.dataset.side;
      set(siteSelect, region.dataset.site);
      if (side) set(sideSelect, side);
      else if (sideSelect && SIDES.includes(sideSelect.value)) set(sideSelect, "U");
      render();
    }

    root.addEventListener("click", (event) => {
      const region = event.target.closest(".bodymap__region[data-site]");
      if (region && root.contains(region)) choose(region);
    });
    root.addEventListener("keydown", (event) => {
      const region = event.target.closest && event.target.closest(".bodymap__region[data-site]");
      if (!region) return;
      if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
        event.preventDefault();
        choose(region);
      }
    });
    // Keyboard focus ring, drawn on top of the neighbouring regions (SVG has no z-index).
    root.addEventListener("focusin", (event) => {
      const region = event.target.closest && event.target.closest(".bodymap__region[data-site]");
      if (!region || !region.matches(":focus-visible")) return;
      const layer = region.ownerSVGElement && region.ownerSVGElement.querySelector(".bodymap__focus");
      if (!layer) return;
      const ring = document.createElementNS("http://www.w3.org/2000/svg", region.localName);
      for (const name of ["d", "cx", "cy", "rx", "ry", "r", "x", "y", "width", "height", "points"]) {
        if (region.hasAttribute(name)) ring.setAttribute(name, region.getAttribute(name));
      }
      layer.replaceChildren(ring);
    });
    root.addEventListener("focusout", () => {
      root.querySelectorAll(".bodymap__focus").forEach((layer) => layer.replaceChildren());
    });
    const skip = root.querySelector(".bodymap__skip");
    if (skip) {
      skip.addEventListener("click", (event) => {
        event.preventDefault();
        siteSelect.focus();
      });
    }
    siteSelect.addEventListener("change", render);
    if (sideSelect) sideSelect.addEventListener("change", render);
    root.classList.add("bodymap--ready");
    render();
  }

  function initAll(scope) {
    const base = scope && scope.querySelectorAll ? scope : document;
    if (base.matches && base.matches("[data-bodymap]")) init(base);
    base.querySelectorAll("[data-bodymap]").forEach(init);
  }

  window.teledermBodymap = { init: initAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => initAll(document));
  } else {
    initAll(document);
  }
  // Forms swapped in by htmx (scripts in swapped content do not run): set up their maps too.
  document.addEventListener("htmx:load", (event) => initAll(event.target));
})();
