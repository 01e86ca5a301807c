// The caseload page (people/caseload_move.html) says how many portfolios will move, and its
// button too, kept up to date as boxes are ticked; without this script it says how many were
// ticked when the page was made.
(function () {
  for (const form of document.querySelectorAll("form[data-caseload]")) {
    const count = form.querySelector("[data-caseload-count]");
    const button = form.querySelector("[data-caseload-button]");
    const show = () => {
      const ticked = form.querySelectorAll("input[name=portfolios]:checked").length;
      const words = `${ticked} portfolio${ticked === 1 ? "" : "s"}`;
      count.textContent = words;
      button.textContent = `Move ${words}`;
    };
    form.addEventListener("change", show);
    show();
  }
})();
