// The docs site's behaviour on top of sphinx-book-theme (pydata-sphinx-theme underneath).
document.addEventListener('DOMContentLoaded', () => {
  // The chapter list and page contents buttons of the article header. pydata-sphinx-theme wires only the first
  // `.primary-toggle` and `.secondary-toggle` of a page, those of its own header bar (hidden: custom.css): the
  // visible ones pass their clicks on to them.
  for (const kind of ['primary', 'secondary']) {
    const wired = document.querySelector(`.${kind}-toggle`);
    document.querySelectorAll(`.${kind}-toggle`).forEach(button => {
      if (button !== wired) button.addEventListener('click', event => { event.preventDefault(); wired.click(); });
    });
  }
  // Search results' snippets come from the page's article, or the section a result points to: Sphinx reads the
  // `[role=main]` element, which in this theme also holds the page's list of contents (snippets of headings).
  if (typeof Search === 'undefined') return;
  Search.htmlToText = (html, anchor) => {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    doc.querySelectorAll('.headerlink, script, style').forEach(e => e.remove());
    const article = doc.querySelector('article.bd-article') || doc.body;
    const part = anchor ? doc.getElementById(decodeURIComponent(anchor.slice(1))) : null;
    return (part && article.contains(part) ? part.closest('section') || part : article).textContent;
  };
});
