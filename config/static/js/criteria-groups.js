// Folded groups of checkboxes (<details data-criteria-group>, from includes/criteria_groups.html):
// each group's summary says how many of its boxes are ticked, kept up to date as they are
// ticked, and on a screen at least Bootstrap's md breakpoint wide every group starts open.
(function () {
  const wide = window.matchMedia("(min-width: 768px)").matches;
  const showCount = (group) => {
    const badge = group.querySelector("[data-count-word]");
    if (!badge) return;
    const ticked = group.querySelectorAll("input[type=checkbox]:checked").length;
    badge.textContent = `${ticked} ${badge.dataset.countWord}`;
  };
  for (const group of document.querySelectorAll("details[data-criteria-group]")) {
    if ("counting" in group.dataset) continue; // the script is on the page twice
    group.dataset.counting = "";
    if (wide) group.open = true;
    showCount(group);
    group.addEventListener("change", () => showCount(group));
  }
})();
