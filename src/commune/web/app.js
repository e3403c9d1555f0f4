// The page's one script, served from /app.js: the content security policy allows no inline
// script. Without it the page still shows the form; with it, answers stream in.
const form = document.getElementById('ask');
const keyInput = document.getElementById('key');
keyInput.value = localStorage.getItem('commune-key') || '';
function headers() {
  const h = {'Content-Type': 'application/json'};
  if (keyInput.value) h['Authorization'] = 'Bearer ' + keyInput.value.trim();
  return h;
}
function loadCollections() {
  fetch('/api/collections', {headers: headers()}).then(r => r.ok ? r.json() : []).then(cs => {
    const sel = document.getElementById('collection');
    sel.replaceChildren(new Option('toutes / all', ''));
    for (const c of cs) sel.append(new Option(c.name + (c.visibility === 'private' ? ' 🔒' : ''), c.name));
  });
}
keyInput.addEventListener('change', () => { localStorage.setItem('commune-key', keyInput.value.trim()); loadCollections(); });
loadCollections();
function showSources(list, sources) {
  list.replaceChildren();
  for (const s of sources) {
    const li = document.createElement('li');
    // Only web addresses become links: a stored "javascript:" source must never run.
    const web = /^https?:\/\//i.test(s.source);
    const a = document.createElement(web ? 'a' : 'span');
    if (web) a.href = s.anchor ? s.source + '#' + s.anchor : s.source;
    a.textContent = s.title + (s.section ? ' — ' + s.section : '') + (s.page ? ', p. ' + s.page : '');
    li.append(a);
    const lic = document.createElement('span'); lic.className = 'licence';
    lic.textContent = ' (' + (s.licence || 'licence inconnue') + ')';
    li.append(lic);
    if (s.attribution) li.title = s.attribution;  // the credit line the licence requires
    list.append(li);
  }
}
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const question = document.getElementById('question').value.trim();
  const collection = document.getElementById('collection').value || null;
  const mode = document.getElementById('mode').value;
  const answer = document.getElementById('answer');
  const notice = document.getElementById('notice');
  const sources = document.getElementById('sources');
  form.setAttribute('aria-busy', 'true');
  answer.textContent = ''; answer.className = ''; notice.hidden = true; sources.replaceChildren();
  document.getElementById('energy').hidden = true; document.getElementById('why').hidden = true;
  document.getElementById('notes').replaceChildren();
  document.getElementById('result').hidden = false;
  try {
    const r = await fetch('/api/ask/stream', {method: 'POST', headers: headers(),
                                              body: JSON.stringify({question, collection, mode})});
    if (!r.ok) { const data = await r.json(); answer.textContent = data.detail || 'Erreur'; answer.className = 'notfound'; return; }
    // Server-sent events over fetch: each "delta" is a sentence already checked for citations.
    const reader = r.body.getReader(); const decoder = new TextDecoder(); let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const kind = (block.match(/^event: (.*)$/m) || [])[1];
        const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || 'null');
        if (kind === 'delta') answer.textContent += data.text;
        if (kind === 'answer') {
          answer.textContent = data.text;
          answer.className = data.found ? '' : 'notfound';
          if (data.notice) { notice.textContent = data.notice; notice.hidden = false; }
          if (data.energy && data.energy.wh !== null) {
            const e = document.getElementById('energy');
            e.textContent = `Énergie / energy: ${(data.energy.wh * 1000).toFixed(1)} mWh · ${(data.energy.gco2e * 1000).toFixed(2)} mgCO2e (${data.energy.measured ? 'mesurée / measured' : 'estimée / estimated'})`;
            e.hidden = false;
          }
          showSources(sources, data.sources);
          const notes = document.getElementById('notes');
          notes.replaceChildren(...(data.licence_notes || []).map(n => { const li = document.createElement('li'); li.textContent = n; return li; }));
          // The charter's five steps, each with its reason (in the question's language).
          document.getElementById('decisions').replaceChildren(...(data.decisions || []).map(d => {
            const li = document.createElement('li');
            li.textContent = `${d.step} — ${d.outcome}: ${d.reason}`;
            return li;
          }));
          document.getElementById('why').hidden = !(data.decisions || []).length;
        }
      }
    }
  } finally { form.removeAttribute('aria-busy'); }
});
