// The run sheet's Print button (scripts must be files: the Content-Security-Policy forbids inline ones).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-sheet");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
});
