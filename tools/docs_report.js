// What tools/test_docs.py checks on a page, read from its DOM once the test has waited for the page to settle
// (its maths typeset, images decoded, fonts loaded, scrollbars drawn). Evaluated by Playwright: plain data back.
() => {
  const article = document.querySelector('article') || document.body;
  const first = s => (s || '').trim().split('\n')[0].slice(0, 70);
  const skip = 'PRE,CODE,SCRIPT,STYLE,MJX-CONTAINER,MJX-ASSISTIVE-MML,TEXTAREA,NOSCRIPT';
  const texts = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode(n) { for (let e = n.parentElement; e; e = e.parentElement) if (skip.includes(e.tagName)) return NodeFilter.FILTER_REJECT;
                    return NodeFilter.FILTER_ACCEPT; }});
  while (walker.nextNode()) texts.push(walker.currentNode.nodeValue);
  const text = texts.join(' ');
  const heading = sec => {
    const h = sec ? sec.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6') : null;
    return h ? h.textContent.replace(/[#¶]\s*$/, '').trim() : null;
  };
  const h1s = [...article.querySelectorAll('h1')].map(h => h.textContent.replace(/[#¶]\s*$/, '').trim());

  // API blocks: heading, signature, source link, the parameter table's head and first column
  const api = [...document.querySelectorAll('.api-block')].map(block => {
    const sec = block.closest('section');
    const src = block.querySelector('a.api-source');
    const table = block.querySelector('table');
    return {id: sec ? sec.id : null, heading: heading(sec),
            signature: (block.querySelector('pre') || {}).textContent || '',
            source: src ? src.href : null, doc: [...block.querySelectorAll(':scope > p')].some(p => !p.querySelector('a.api-source')),
            table_head: table ? [...table.querySelectorAll('thead th')].map(t => t.textContent.trim()).filter(t => t) : [],
            table_rows: table ? [...table.querySelectorAll('tbody tr')].map(r => r.cells[0].textContent.trim()) : []};
  });

  // Code: wrapping, scrolling (with a scrollbar drawn?), how many characters a line holds
  const pres = [...article.querySelectorAll('pre')];
  const wraps = e => { const s = getComputedStyle(e);
                      return s.textWrapMode ? s.textWrapMode !== 'nowrap' : !['pre', 'nowrap'].includes(s.whiteSpace); };
  const wrapping_code = pres.filter(wraps).map(p => first(p.textContent));
  const visible = e => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null;
  const scrollbarDrawn = e => {
    const s = getComputedStyle(e);
    return ['auto', 'scroll'].includes(s.overflowX) &&
           e.offsetHeight - e.clientHeight - parseFloat(s.borderTopWidth) - parseFloat(s.borderBottomWidth) >= 4;
  };
  const scrolling_code = pres.filter(p => visible(p) && p.scrollWidth > p.clientWidth + 2)
                             .map(p => ({first: `${first(p.textContent)} (${p.scrollWidth} px in ${p.clientWidth}, ${p.offsetHeight - p.clientHeight} px of scrollbar)`, scrollbar: scrollbarDrawn(p)}));
  let code_chars = null;
  const probe = pres.find(p => visible(p) && p.closest('div.cell_input, div.api-block'));
  if (probe) {
    const s = getComputedStyle(probe), span = document.createElement('span');
    span.textContent = 'x'.repeat(200); span.style.visibility = 'hidden'; probe.appendChild(span);
    const cw = span.getBoundingClientRect().width / 200; span.remove();
    code_chars = Math.floor((probe.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)) / cw);
  }
  // Parameter tables: the narrowest Details cell, in characters of its text (a squeezed column shows one a line)
  const detailChars = [...document.querySelectorAll('div.api-block table tbody tr')].filter(visible).map(r => {
    const td = r.cells[r.cells.length - 1], s = getComputedStyle(td);
    return (td.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)) / (parseFloat(s.fontSize) * 0.6); });
  const details_chars = detailChars.length ? Math.floor(Math.min(...detailChars)) : null;
  const markdown_in_code = pres.filter(p => /\[`[^`\]\n]+`\]\([^)\s]*\)/.test(p.textContent)).map(p => first(p.textContent));

  // Content wider than the column: it must sit in a box that scrolls and draws its scrollbar
  const right = article.getBoundingClientRect().right;
  const cut_off = [];
  for (const e of article.querySelectorAll('table, img, mjx-container[display="true"], div.cell_output > div, div.math')) {
    if (!visible(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= right + 1) continue;
    let box = e.parentElement;
    while (box && box !== article && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    const ok = box && box !== article && box.getBoundingClientRect().right <= right + 1 && scrollbarDrawn(box);
    if (!ok) cut_off.push(`${e.tagName.toLowerCase()} ${Math.round(r.width)} px wide: ${first(e.textContent || e.getAttribute('src') || '')}`);
  }

  // Outputs that are the repr of a plotting call
  const stray_reprs = [...article.querySelectorAll('div.cell_output')].filter(o =>
      /<matplotlib\.[\w.]+ (object )?at 0x|<Figure size \d+x\d+|^\s*Text\(-?[\d.]+, -?[\d.]+, /m.test(o.textContent))
    .map(o => { const cell = o.closest('div.cell'); const code = cell && cell.querySelector('div.cell_input pre');
                return `${first(o.textContent)}  (cell: ${first(code ? code.textContent : '')})`; });

  // Names of other libraries that link into this site
  const textBefore = a => a.previousSibling && a.previousSibling.nodeType === 3 ? a.previousSibling.nodeValue : '';
  const foreign_internal = [...article.querySelectorAll('a[href]:not(.headerlink)')].filter(a =>
      a.href.startsWith(location.origin) &&
      (/(PyTorch|[Tt]orch|fastai|Lightning|Keras|JAX|timm)['’]s\s*$/.test(textBefore(a)) || /^torch\./.test(a.textContent.trim())))
    .map(a => `${textBefore(a).slice(-20)}${a.textContent} -> ${a.getAttribute('href')}`);

  // Folds
  const folds = [...article.querySelectorAll('details')].map(d => {
    const summary = d.querySelector(':scope > summary');
    const label = summary ? ((summary.querySelector('.collapsed') || summary).textContent.trim()) : '';
    const content = [...d.children].filter(c => c.tagName !== 'SUMMARY');
    return {summary: label, open: d.open, content_visible: content.some(c => visible(c) && c.getBoundingClientRect().height > 0),
            has_output: !!d.querySelector('div.cell_output'), has_input: !!d.querySelector('div.cell_input')};
  });

  const codeDirectives = [...document.querySelectorAll('div.cell pre')].filter(p => /^\s*#\s*\|/m.test(p.textContent)).length;
  return {
    title: document.title, h1s,
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    mjx: document.querySelectorAll('mjx-container').length,
    mjx_errors: document.querySelectorAll('mjx-merror').length,
    raw_math: (text.match(/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{/g) || []).length,
    raw_math_at: (text.match(/.{0,40}(\$\$|\\\(|\\\[|\\begin\{).{0,40}/) || [''])[0],
    stray_dollars: [...document.querySelectorAll('mjx-container')].filter(m => {
        const before = m.closest('.math') ? m.closest('.math').previousSibling : m.previousSibling;
        const after = m.closest('.math') ? m.closest('.math').nextSibling : m.nextSibling;
        return (before && before.nodeType === 3 && /\$\s*$/.test(before.nodeValue)) ||
               (after && after.nodeType === 3 && /^\s*[,.;:]?\$/.test(after.nodeValue)); })
      .map(m => (m.closest('p, li, td') || m).textContent.slice(0, 80)),
    leftovers: (text.match(/.{0,30}(:::|\{target=|\{\.callout|#\|\s|\{\{<|\|\s*:?-{3,}:?\s*\|).{0,30}/g) || []),
    code_directives: codeDirectives,
    api, sidebar: [...document.querySelectorAll('nav.bd-docs-nav a')].map(a => a.textContent.trim()),
    scroll_width: document.scrollingElement.scrollWidth, inner_width: window.innerWidth,
    wrapping_code, scrolling_code, code_chars, details_chars, markdown_in_code, cut_off, stray_reprs, foreign_internal, folds,
    height: Math.ceil(document.scrollingElement.scrollHeight),
  };
}
