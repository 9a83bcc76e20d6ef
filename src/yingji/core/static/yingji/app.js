// Behaviour the pages declare with data attributes. No page carries inline script:
// the Content-Security-Policy allows scripts from this site only (core/hardening.py).
//   <select data-autosubmit>   submits its form when changed
//   <a href="#" data-print>    prints the page
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var el = event.target && event.target.closest ? event.target.closest("[data-print]") : null;
  if (el) {
    event.preventDefault();
    window.print();
  }
});
