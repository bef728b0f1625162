/* Pantau Kota Cerdas: progressive enhancement of the server-rendered pages (which work without it).
   Plain ES2020, no libraries, no eval, no inline handlers: it runs under script-src 'self'. */
(function () {
  'use strict';

  const root = document.documentElement;
  root.classList.add('js');
  const lang = root.lang || undefined;
  const $$ = (sel, ctx) => Array.from((ctx || document).querySelectorAll(sel));

  const guard = (name, fn) => { try { fn(); } catch (err) { console.error('pantau.js: ' + name, err); } };
  const collation = { sensitivity: 'base', numeric: true };
  let collator;
  try { collator = new Intl.Collator(lang, collation); } catch (err) { collator = new Intl.Collator(undefined, collation); }

  /* Every second shown row gets "alt" (zebra stripes that survive sorting and filtering). */
  function stripe(tbody) {
    let n = 0;
    for (const row of tbody.rows) row.classList.toggle('alt', !row.hidden && n++ % 2 === 1);
  }

  /* 2. Sortable tables ---------------------------------------------------------------------- */
  function sortable(table) {
    const heads = $$('thead th', table);
    const body = table.tBodies[0];
    if (!body) return;
    stripe(body);
    heads.forEach((th) => {
      const button = th.querySelector('button');
      if (!th.hasAttribute('data-sort') || !button) return;
      button.addEventListener('click', () => {
        const index = th.cellIndex;
        const numeric = th.getAttribute('data-sort') === 'number';
        const order = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        const sign = order === 'ascending' ? 1 : -1;
        const key = (row) => {
          const cell = row.cells[index];
          const raw = !cell ? '' : cell.hasAttribute('data-value') ? cell.getAttribute('data-value') : cell.textContent.trim();
          const n = parseFloat(raw);
          return !numeric ? raw : Number.isNaN(n) ? -Infinity : n;
        };
        const rows = Array.from(body.rows).map((row, i) => ({ row, i, k: key(row) }));
        rows.sort((a, b) => {
          const c = numeric ? (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) : collator.compare(a.k, b.k);
          return c !== 0 ? sign * c : a.i - b.i;
        });
        const frag = document.createDocumentFragment();
        rows.forEach((r) => frag.appendChild(r.row));
        body.appendChild(frag);
        heads.forEach((h) => { if (h !== th) h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', order);
        stripe(body);
      });
    });
  }

  /* 3. Search and filters as you type (mirrors services/web/views.py `fold` and `matches`) ----- */
  const CODE = /^\d{2}(\.\d{2})?$/;
  const KEYS = ['q', 'province', 'type', 'level'];

  function fold(text) {
    const words = String(text).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/ß/g, 'ss').match(/[\p{L}\p{N}]+/gu);
    return words ? words.join(' ') : '';
  }

  function matches(query, code, name) {
    const q = query.trim();
    if (CODE.test(q)) return code.startsWith(q);
    const folded = fold(name);
    return fold(q).split(' ').filter(Boolean).every((w) => folded.includes(w));
  }

  /* Whether every row that `after` admits is admitted by `before` too (so no row missing from the
     page could be wanted). */
  function narrower(before, after) {
    for (const k of ['province', 'type', 'level']) if (before[k] && before[k] !== after[k]) return false;
    const a = before.q.trim(), b = after.q.trim();
    if (!a) return true;
    if (CODE.test(a)) return CODE.test(b) && b.startsWith(a);
    if (CODE.test(b)) return false;
    const old = fold(a).split(' ').filter(Boolean), now = fold(b).split(' ').filter(Boolean);
    return old.every((w) => now.some((v) => v.includes(w)));
  }

  function setParams(params, crit) {
    for (const k of KEYS) { if (crit[k]) params.set(k, crit[k]); else params.delete(k); }
  }

  function filters(form) {
    const table = document.querySelector('table.' + (form.getAttribute('data-filter-for') || 'ranking'));
    if (!table || !table.tBodies[0]) return;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const search = form.querySelector('[data-filter-search]');
    const selects = {};
    $$('select[data-filter]', form).forEach((s) => { selects[s.getAttribute('data-filter')] = s; });
    const count = form.querySelector('[data-filter-count]');
    const summary = (form.closest('section') || document).querySelector('.filter-summary');

    const current = () => ({
      q: search ? search.value.slice(0, 100) : '', province: selects.province ? selects.province.value : '',
      type: selects.type ? selects.type.value : '', level: selects.level ? selects.level.value : '',
    });
    // What the server filtered by: the query of the page as loaded (only the filters this form has).
    const loaded = new URL(window.location.href).searchParams, initial = {};
    for (const k of KEYS) initial[k] = (k === 'q' ? search : selects[k]) ? (loaded.get(k) || '').slice(0, 100) : '';
    // The server may have left out the rows its filter did not admit; then widening the filter needs it.
    const total = parseInt(table.getAttribute('data-total') || (count && count.getAttribute('data-total')) || '', 10);
    const filtered = KEYS.some((k) => initial[k]);
    const partial = Number.isNaN(total) ? filtered && !rows.some((r) => r.hidden) : rows.length < total;
    const all = Number.isNaN(total) ? rows.length : total;

    function apply(crit) {
      let shown = 0;
      for (const row of rows) {
        const search = row.getAttribute('data-search') || '';
        const cut = search.lastIndexOf(' ');
        const code = row.getAttribute('data-code') || search.slice(cut + 1);
        const ok = (!crit.province || row.getAttribute('data-province') === crit.province)
          && (!crit.type || row.getAttribute('data-type') === crit.type)
          && (!crit.level || row.getAttribute('data-level') === crit.level)
          && matches(crit.q, code, cut < 0 ? '' : search.slice(0, cut));
        row.hidden = !ok;
        if (ok) shown++;
      }
      stripe(body);
      if (count) {
        const template = count.getAttribute('data-template') || '{shown} / {total}';
        count.textContent = template.replace('{shown}', shown.toLocaleString(lang)).replace('{total}', all.toLocaleString(lang));
        if (summary) summary.hidden = true;
      }
    }

    function remember(crit) {
      const here = new URL(window.location.href);
      setParams(here.searchParams, crit);
      history.replaceState(history.state, '', here.pathname + here.search + here.hash);
      // Keep the other ways off this page in step: the language switch and the map's measure switch.
      $$('a.lang-switch').forEach((a) => {
        const link = new URL(a.getAttribute('href'), window.location.href);
        setParams(link.searchParams, crit);
        a.setAttribute('href', link.pathname + link.search + link.hash);
      });
      $$('form.measure-switch fieldset').forEach((fs) => {
        for (const k of KEYS) {
          let input = fs.querySelector('input[type="hidden"][name="' + k + '"]');
          if (!crit[k]) { if (input) input.remove(); continue; }
          if (!input) {
            input = Object.assign(document.createElement('input'), { type: 'hidden', name: k });
            fs.insertBefore(input, fs.firstElementChild ? fs.firstElementChild.nextSibling : null);
          }
          input.value = crit[k];
        }
      });
    }

    let timer = 0;
    function changed(event) {
      window.clearTimeout(timer);
      const typing = event.type === 'input';
      const crit = current();
      if (partial && !narrower(initial, crit)) {
        // Rows the wider filter admits are not on the page: ask the server (as pressing the button would).
        timer = window.setTimeout(() => (form.requestSubmit ? form.requestSubmit() : form.submit()), typing ? 700 : 0);
        return;
      }
      timer = window.setTimeout(() => { apply(crit); remember(crit); }, 100);
    }

    form.addEventListener('input', (e) => { if (!e.target.matches('select')) changed(e); });
    form.addEventListener('change', (e) => { if (e.target.matches('select')) changed(e); });
    const start = current();
    if (!partial || narrower(initial, start)) apply(start);
  }

  /* 4. Radios that submit their form -------------------------------------------------------- */
  function autosubmit() {
    document.addEventListener('change', (e) => {
      const input = e.target;
      if (!(input instanceof HTMLInputElement) || !input.hasAttribute('data-autosubmit') || !input.form) return;
      if (input.form.requestSubmit) input.form.requestSubmit(); else input.form.submit();
    });
  }

  /* 5. Map tooltip -------------------------------------------------------------------------- */
  function tooltips(maps) {
    const tip = Object.assign(document.createElement('div'), { className: 'map-tooltip', hidden: true });
    tip.setAttribute('aria-hidden', 'true');
    document.body.appendChild(tip);

    function show(path, x, y) {
      const title = path.querySelector('title');
      if (!title || !title.textContent) { tip.hidden = true; return; }
      tip.textContent = title.textContent;
      tip.hidden = false;
      const w = tip.offsetWidth, h = tip.offsetHeight, gap = 14;
      let left = x + gap, top = y + gap;
      if (left + w > root.clientWidth - 4) left = Math.max(4, x - gap - w);
      if (top + h > root.clientHeight - 4) top = Math.max(4, y - gap - h);
      tip.style.left = Math.round(left + window.scrollX) + 'px';
      tip.style.top = Math.round(top + window.scrollY) + 'px';
    }
    const hide = () => { tip.hidden = true; };

    maps.forEach((svg) => {
      svg.addEventListener('pointermove', (e) => {
        const path = e.target instanceof Element && e.target.closest('path');
        if (path && svg.contains(path)) show(path, e.clientX, e.clientY); else hide();
      });
      svg.addEventListener('pointerleave', hide);
      svg.addEventListener('focusin', (e) => {
        const link = e.target instanceof Element && e.target.closest('a');
        const path = link && link.querySelector('path');
        if (!path) return;
        const box = path.getBoundingClientRect();
        show(path, box.left + box.width / 2, box.bottom);
      });
      svg.addEventListener('focusout', hide);
    });
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
    window.addEventListener('scroll', () => { if (!tip.hidden && !(document.activeElement || root).closest('svg.choropleth')) hide(); }, { passive: true });
  }

  /* 6. Print -------------------------------------------------------------------------------- */
  function printing() {
    document.addEventListener('click', (e) => {
      if (e.target instanceof Element && e.target.closest('button[data-print]')) window.print();
    });
    // Closed <details> print open (their contents belong in the report), and close again after.
    window.addEventListener('beforeprint', () => {
      $$('details:not([open])').forEach((d) => { d.open = true; d.setAttribute('data-print-opened', ''); });
    });
    window.addEventListener('afterprint', () => {
      $$('details[data-print-opened]').forEach((d) => { d.open = false; d.removeAttribute('data-print-opened'); });
    });
  }

  function start() {
    $$('table[data-sortable]').forEach((t) => guard('sort', () => sortable(t)));
    $$('form[data-filter-for]').forEach((f) => guard('filter', () => filters(f)));
    guard('autosubmit', autosubmit);
    const maps = $$('svg.choropleth');
    if (maps.length) guard('tooltip', () => tooltips(maps));
    guard('print', printing);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
