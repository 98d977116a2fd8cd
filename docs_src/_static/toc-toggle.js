// The article header's "contents" button (sphinx-book-theme) opens the page's contents drawer.
// pydata-sphinx-theme wires only the first `.secondary-toggle` on the page, the one in its own
// header bar, which this site hides on wide screens (custom.css): the others forward to it.
document.addEventListener('DOMContentLoaded', () => {
  const wired = document.querySelector('.secondary-toggle');
  if (!wired) return;
  document.querySelectorAll('.secondary-toggle').forEach(button => {
    if (button !== wired) button.addEventListener('click', event => { event.preventDefault(); wired.click(); });
  });
});
