// A page's facts for tools/test_docs.py, read from its DOM once it has settled; the test judges them.
() => {
  const art = document.querySelector('article') || document.body, all = (s, r = document) => [...r.querySelectorAll(s)];
  const px = (e, ...ps) => { const s = getComputedStyle(e); return ps.reduce((a, p) => a + parseFloat(s[p]), 0); };
  const vis = e => e.checkVisibility(), first = s => (s || '').trim().split('\n')[0].slice(0, 70);
  const bar = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.offsetHeight - e.clientHeight - px(e, 'borderTopWidth', 'borderBottomWidth') >= 4;
  const texts = [], walk = document.createTreeWalker(art, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement.closest('pre, code, script, style, mjx-container, textarea, noscript') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walk.nextNode()) texts.push(walk.currentNode.nodeValue);
  const pres = all('pre', art), probe = pres.find(p => vis(p) && p.closest('div.cell_input, div.api-block')), span = document.createElement('span');
  let code_chars = null;
  if (probe) { span.textContent = 'x'.repeat(200); probe.appendChild(span);
               code_chars = Math.floor((probe.clientWidth - px(probe, 'paddingLeft', 'paddingRight')) / (span.getBoundingClientRect().width / 200)); span.remove(); }
  const details = all('div.api-block table tbody tr').filter(vis).map(r => r.cells[r.cells.length - 1])
    .map(td => (td.clientWidth - px(td, 'paddingLeft', 'paddingRight')) / (px(td, 'fontSize') * 0.6));
  const right = art.getBoundingClientRect().right, cut_off = [];
  for (const e of all('table, img, mjx-container[display="true"], div.cell_output > div, div.math', art)) {
    const r = e.getBoundingClientRect();
    if (!vis(e) || r.width === 0 || r.right <= right + 1) continue;
    let box = e.parentElement;
    while (box && box !== art && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    if (!(box && box !== art && box.getBoundingClientRect().right <= right + 1 && bar(box)))
      cut_off.push(`${e.tagName.toLowerCase()} ${Math.round(r.width)} px wide: ${first(e.textContent || e.getAttribute('src'))}`);
  }
  const beside = (m, k) => { const n = (m.closest('.math') || m)[k]; return n && n.nodeType === 3 ? n.nodeValue : ''; };
  return {
    title: document.title, h1s: all('h1', art).map(h => h.textContent.replace(/[#¶]\s*$/, '').trim()), text: texts.join('\n'),
    images: all('img').map(i => [i.currentSrc || i.src, i.naturalWidth]), links: all('a[href]').map(a => a.href),
    mjx_errors: all('mjx-merror').length,
    stray_dollars: all('mjx-container').filter(m => /\$\s*$/.test(beside(m, 'previousSibling')) || /^\s*[,.;:]?\$/.test(beside(m, 'nextSibling')))
      .map(m => (m.closest('p, li, td') || m).textContent.slice(0, 80)),
    loose_punctuation: all('mjx-container').filter(m => !m.closest('.nowrap') && /^[,.;:!?)]/.test(beside(m, 'nextSibling')))
      .map(m => (m.closest('p, li, td') || m).textContent.slice(0, 80)),
    code: pres.map(p => { const s = getComputedStyle(p);
      return {first: first(p.textContent), text: p.textContent, cell: !!p.closest('div.cell'), wraps: s.textWrapMode ? s.textWrapMode !== 'nowrap' : !['pre', 'nowrap'].includes(s.whiteSpace),
              scrolls: vis(p) && p.scrollWidth > p.clientWidth + 2, bar: bar(p), sizes: `${p.scrollWidth} px in ${p.clientWidth}`}; }),
    code_chars, details_chars: details.length ? Math.floor(Math.min(...details)) : null, cut_off,
    outputs: all('div.cell_output', art).map(o => [o.textContent, first(o.closest('div.cell')?.querySelector('div.cell_input pre')?.textContent)]),
    internal: all('a[href]:not(.headerlink)', art).filter(a => a.href.startsWith(location.origin))
      .map(a => [a.previousSibling?.nodeType === 3 ? a.previousSibling.nodeValue : '', a.textContent, a.getAttribute('href')]),
    api: all('.api-block').map(b => { const sec = b.closest('section'), h = sec?.querySelector(':scope > :is(h1, h2, h3, h4, h5, h6)'), t = b.querySelector('table');
      return {id: sec?.id, heading: h ? h.textContent.replace(/[#¶]\s*$/, '').trim() : null, signature: b.querySelector('pre')?.textContent || '',
              source: b.querySelector('a.api-source')?.href, doc: all(':scope > p', b).some(p => !p.querySelector('a.api-source')),
              table_head: t ? all('thead th', t).map(c => c.textContent.trim()).filter(c => c) : [],
              table_rows: t ? all('tbody tr', t).map(r => [r.cells[0].textContent.trim(), r.cells[r.cells.length - 1].textContent.trim()]) : []}; }),
    folds: all('details', art).map(d => ({summary: (d.querySelector(':scope > summary .collapsed') || d.querySelector(':scope > summary'))?.textContent.trim() || '',
      open: d.open, shown: [...d.children].some(c => c.tagName !== 'SUMMARY' && vis(c) && c.getBoundingClientRect().height > 0), output: !!d.querySelector('div.cell_output')})),
    scroll_width: document.scrollingElement.scrollWidth, inner_width: innerWidth, height: Math.ceil(document.scrollingElement.scrollHeight),
  };
}
