// "Mark every criterion listed met" ticks or unticks each criterion's "Mark met" box, and is
// ticked only while every one of them is. Without this script the server still reads it as
// every criterion listed.
(function () {
  const all = document.querySelector("input[data-mark-all]");
  if (!all) return;
  const boxes = Array.from(document.querySelectorAll("input[data-mark-met]"));
  all.addEventListener("change", () => {
    boxes.forEach((box) => {
      box.checked = all.checked;
    });
  });
  const follow = () => {
    all.checked = boxes.every((box) => box.checked);
  };
  boxes.forEach((box) => box.addEventListener("change", follow));
})();
