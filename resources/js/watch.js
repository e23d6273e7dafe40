/* Latchkey's page reader. It runs in an isolated world ("latchkey"): it shares
 * the page's DOM but none of its JavaScript, and adds nothing the page can see.
 * The placeholder in the next line becomes the site profile (JSON) before injection. */
const lkCfg = LK_CFG;

function lkHash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 7) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16) + ':' + s.length;
}

function lkRead() {
  const q = (sel) => { try { return document.querySelector(sel); } catch (e) { return null; } };
  const linked = lkCfg.linked.some((sel) => q(sel) !== null);
  let conflict = lkCfg.conflictSelector ? q(lkCfg.conflictSelector) !== null : false;
  if (!conflict && lkCfg.conflictText) {
    for (const b of document.querySelectorAll('button, [role="button"]')) {
      if ((b.textContent || '').trim().toLowerCase() === lkCfg.conflictText) { conflict = true; break; }
    }
  }
  const qrEl = q(lkCfg.qrSelector);
  const ref = qrEl ? qrEl.getAttribute(lkCfg.qrAttribute) : null;
  let canvas = null;
  const c = lkCfg.qrCanvas ? q(lkCfg.qrCanvas) : null;
  if (c && c.width > 0 && c.height > 0) {
    const r = c.getBoundingClientRect();
    let sig = '';
    try { sig = lkHash(c.toDataURL()); } catch (e) { sig = 'tainted'; }
    canvas = { x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height, sig: sig };
  }
  return { url: location.href, ready: document.readyState, linked: linked, conflict: conflict,
           qr: ref, canvas: canvas };
}

function lkTakeOver() {
  const q = (sel) => { try { return document.querySelector(sel); } catch (e) { return null; } };
  let btn = lkCfg.conflictSelector ? q(lkCfg.conflictSelector) : null;
  if (!btn && lkCfg.conflictText) {
    for (const b of document.querySelectorAll('button, [role="button"]')) {
      if ((b.textContent || '').trim().toLowerCase() === lkCfg.conflictText) { btn = b; break; }
    }
  }
  if (!btn) return false;
  btn.click();
  return true;
}

/* Owned mode: report every change through the binding, at most once a task. */
function lkWatch(binding) {
  let last = '';
  let queued = false;
  const emit = () => {
    queued = false;
    const s = JSON.stringify(lkRead());
    if (s !== last) { last = s; globalThis[binding](s); }
  };
  const schedule = () => { if (!queued) { queued = true; queueMicrotask(emit); } };
  new MutationObserver(schedule).observe(document, { subtree: true, childList: true, attributes: true });
  document.addEventListener('readystatechange', schedule);
  window.addEventListener('hashchange', schedule);
  window.addEventListener('popstate', schedule);
  schedule();
}
