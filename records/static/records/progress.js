// A progress page reloads itself every few seconds while what it shows is being made, until the
// reader stops it (a page that refreshes on its own must let them: WCAG 2.2.1).
(function () {
  const progress = document.querySelector("[data-refresh-seconds]");
  if (!progress) return;
  const timer = setTimeout(
    () => window.location.reload(),
    Number(progress.dataset.refreshSeconds) * 1000,
  );
  const stop = document.getElementById("refresh-stop");
  const note = document.getElementById("refresh-note");
  stop.hidden = false;
  stop.addEventListener("click", () => {
    clearTimeout(timer);
    stop.hidden = true;
    note.textContent = "This page no longer refreshes itself: reload it to see how it is going.";
  });
})();
