// The pages' one script, served from /static: the content security policy allows no inline
// script. Every form works without it; with it, answers stream in and uploads show progress.
'use strict';

// A delta is one checked sentence; a command line comes quoted as code, its citation after
// it ("`commune backup /srv` [2]", answering/answer.py). It is shown as code as it arrives,
// as the final answer shows it (_answer.html), not as text between backquotes. Text nodes
// only: nothing a document says is read as HTML. No backquote inside: a prose sentence that
// starts and ends with inline code ("`a` ou `b` [1]") is not one line of code. A line whose
// listing goes on past it carries the mark " […]" before its citation, outside the code.
const CODE_PIECE = /^(\s?)`([^`]+)`((?: \[…\])? \[\d+\])$/;

function showPiece(into, text) {
  const quoted = text.match(CODE_PIECE);
  if (!quoted) { into.append(text); return; }
  const code = document.createElement('code');
  code.className = 'code';
  code.tabIndex = 0;  // it scrolls sideways on a phone: the keyboard must reach it (_answer.html)
  code.textContent = quoted[2];
  into.append(quoted[1], code, quoted[3]);
}

// A question typed when the session had ended: kept in this tab while its person signs in
// again, and put back in its box (it was lost: a clerk's long question after a day's work).
// The tab's own storage, emptied as soon as a question box is shown; a browser that refuses
// storage loses it as before. Put back only for the person who typed it, as the page names
// them: on a shared computer the next person signing in on the tab read the clerk's question
// (a resident's name, an address) in their own box.
const KEPT = 'commune.question';

function signedInAs() {
  const who = document.querySelector('.who');
  return who ? who.textContent.trim() : '';
}

function keep(box, answered) {
  const kept = {who: signedInAs(), text: box.value};
  if (answered) Object.assign(kept, answered);
  try {
    if (box.value.trim()) sessionStorage.setItem(KEPT, JSON.stringify(kept));
  } catch (e) { /* none */ }
}

function putBack(box) {
  let kept = null;
  try {
    kept = sessionStorage.getItem(KEPT);
    sessionStorage.removeItem(KEPT);  // first: a text the parse refuses is forgotten too
    kept = JSON.parse(kept || 'null');
  } catch (e) { return null; }
  if (!kept || !kept.who || kept.who !== signedInAs() || box.value) return null;
  box.value = kept.text;
  return kept;
}

// An answer kept across a change of language, met on a page that is not its person's: their
// session had ended, and the page that followed was the form refused or the sign-in page,
// which never put it back, so a clerk's answer (a resident's case) stayed in the tab's storage
// for whoever came next. Forgotten there, as the history entry forgets it (forget); the
// question alone waits for its person, as when a session ends as one asks (putBack).
function forgetKeptAnswer() {
  const who = signedInAs();
  try {
    const kept = JSON.parse(sessionStorage.getItem(KEPT) || 'null');
    if (!kept || !('answer' in kept) || kept.who === who) return;
    if (who) sessionStorage.removeItem(KEPT);  // another person's page: nothing of it
    else sessionStorage.setItem(KEPT, JSON.stringify({who: kept.who, text: kept.text}));
  } catch (e) {
    try { sessionStorage.removeItem(KEPT); } catch (e2) { /* no storage: nothing kept */ }
  }
}

// The answer on the page, with what it was asked with, as the language form sends the page
// away: the person who had read an answer, then switched the page to English (or back),
// found the box and the answer gone. None while it is still coming, nor after a refusal.
function answered(form) {
  const result = document.getElementById('result');
  const block = document.getElementById('answer-block');
  if (result.hidden || result.getAttribute('aria-busy') === 'true'
      || !block.querySelector('.answer-card')) return null;
  const f = form.elements;
  return {answer: block.innerHTML, collection: f.collection.value, mode: f.mode.value,
          lang: block.getAttribute('lang') || document.documentElement.lang};
}

// Written by the server in the language of the page it was asked on (its labels, the
// charter's reasons): said to be in it, not read in the new page's voice (WCAG 3.1.2). Asked
// again, it comes in the new one.
function inItsLanguage(block, lang) {
  if (lang && lang !== document.documentElement.lang) block.setAttribute('lang', lang);
  else block.removeAttribute('lang');
}

// A refusal the server sent in place of the answer or the results (a question of blanks, a
// collection's name refused): tied to the form's fields, as the page without script ties it
// (_form.html: aria-describedby), so that a screen reader on the field hears why. A box with
// no refusal in it unties them.
function tie(form, box, name, fields) {
  const id = name + '-error';
  const said = box.querySelector('[role=alert]');
  // The refusal the page came with, once another outcome replaces it: one refusal, one id.
  document.querySelectorAll('#' + id).forEach((e) => { if (e !== said) e.remove(); });
  if (said) said.id = id;
  for (const field of fields) {
    const el = form.elements[field];
    const ids = (el.getAttribute('aria-describedby') || '').split(' ')
      .filter((i) => i && i !== id);
    if (said) ids.push(id);
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
    else el.removeAttribute('aria-describedby');
  }
}

// The question and its answer, kept in this tab's entry of the history: the answer came in
// by script, and reloading the page (or coming back to it once the browser had let it go)
// showed an empty box, the question typed and the answer read both lost. Put back only for
// the person who asked, as the page names them (a shared computer: see putBack).
function remember(form, block) {
  const f = form.elements;
  const state = {who: signedInAs(), question: f.question.value, collection: f.collection.value,
                 mode: f.mode.value, answer: block.innerHTML,
                 lang: block.getAttribute('lang') || document.documentElement.lang};
  try { history.replaceState(state, ''); } catch (e) { /* the answer is not kept */ }
}

// Another person's question and answer, left in this tab's history entry: on the shared
// computer, the next person back on that entry (their own page, or the sign-in page) read
// them in history.state (the console; the session the browser saves to disk). Forgotten
// as soon as a page that is not theirs is shown on the entry.
function forget() {
  const state = history.state;
  if (!state || !('answer' in state) || state.who === signedInAs()) return;
  try { history.replaceState(null, ''); } catch (e) { /* nothing kept to forget */ }
}

// The question a follow-up (« Et pour un passeport ? ») is read after: the one the answer
// shown followed, or the answer's own (ask.html's hidden "follows"), from the answer's card
// however it came, streamed or put back; left as it was when no answer came (an error).
function follows(form, block) {
  const card = block.querySelector('.answer-card');
  if (card && form.elements.follows) form.elements.follows.value = card.dataset.follows || '';
}

function recall(form, result, block, state = history.state) {
  const f = form.elements;
  if (!state || !state.who || state.who !== signedInAs() || f.question.value) return;
  f.question.value = state.question || '';
  for (const name of ['collection', 'mode']) {
    // A collection no longer offered to this person is not chosen behind their back.
    if ([...f[name].options].some((o) => o.value === state[name])) f[name].value = state[name];
  }
  if (!state.answer) return;
  block.innerHTML = state.answer;
  inItsLanguage(block, state.lang);
  follows(form, block);
  result.hidden = false;
  tie(form, block, 'ask', ['question', 'collection']);
}

function ask(form) {
  const result = document.getElementById('result');
  const streamed = document.getElementById('streamed');
  const block = document.getElementById('answer-block');
  const waiting = document.getElementById('waiting');
  const button = form.querySelector('button[type=submit]');
  recall(form, result, block);
  const kept = putBack(form.elements.question);
  if (kept && kept.answer) {
    // Across a change of language: put back as a reload puts it back, and kept in this
    // tab's entry of the history for the next reload (remember).
    form.elements.question.value = '';
    recall(form, result, block, {...kept, question: kept.text});
    remember(form, block);
  }
  // A box full to its maxlength took no more, silently: a text pasted was cut (ask.html).
  const full = document.getElementById('question-full');
  const box = form.elements.question;
  box.addEventListener('input', () => {
    const said = box.maxLength > 0 && box.value.length >= box.maxLength ? full.dataset.said : '';
    if (full.textContent !== said) full.textContent = said;
  });
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;  // one question at a time
    busy = true;
    const body = new URLSearchParams(new FormData(form));
    result.hidden = false;
    result.setAttribute('aria-busy', 'true');
    block.replaceChildren();
    inItsLanguage(block, null);  // the next answer is in this page's language
    tie(form, block, 'ask', ['question', 'collection']);
    streamed.textContent = '';
    streamed.hidden = false;
    waiting.textContent = waiting.dataset.said;  // until the answer's first words (ask.html)
    // On a phone the button is at the screen's foot: what it started, the note above and the
    // answer below, was out of sight, and the page seemed not to have heard. Brought into
    // view, as little as that takes.
    waiting.scrollIntoView({block: 'nearest'});
    // aria-disabled, not disabled: a disabled button loses the focus, which fell to the
    // page's body, and a keyboard or screen reader user's place in the page with it.
    button.setAttribute('aria-disabled', 'true');
    try {
      const r = await fetch(form.dataset.stream, {method: 'POST', body, headers: {'X-Fragment': '1'},
                                                 credentials: 'same-origin'});
      // The session ended (expired, or signed out in another tab): the server sent the
      // sign-in page, which the reader is taken to, and back here once signed in.
      if (r.redirected) { keep(form.elements.question); window.location.assign(r.url); return; }
      if (!r.ok) {
        streamed.hidden = true; block.innerHTML = await r.text();
        tie(form, block, 'ask', ['question', 'collection']);
        return;
      }
      // Server-sent events over fetch: each "delta" is a sentence already checked for its
      // citation; "answer" is the whole answer, rendered by the server's own template.
      const reader = r.body.getReader(); const decoder = new TextDecoder(); let buffer = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const chunk = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const kind = (chunk.match(/^event: (.*)$/m) || [])[1];
          const data = JSON.parse((chunk.match(/^data: (.*)$/m) || [])[1] || 'null');
          waiting.textContent = '';
          if (kind === 'delta') showPiece(streamed, data.text);
          if (kind === 'answer') {
            streamed.hidden = true; block.innerHTML = data.html; follows(form, block);
          }
          if (kind === 'error') {
            // The answer failed after it began (http/sse.py): say so, not a cut answer.
            const p = document.createElement('p');
            p.className = 'error'; p.setAttribute('role', 'alert'); p.textContent = data.detail;
            block.replaceChildren(p);
          }
        }
      }
    } catch (err) {
      form.submit();  // the stream broke: ask again the way that needs no script
    } finally {
      remember(form, block);
      waiting.textContent = '';
      result.setAttribute('aria-busy', 'false');
      button.removeAttribute('aria-disabled');
      busy = false;
    }
  });
}

function contribute(form) {
  const box = document.getElementById('progress-box');
  const bar = document.getElementById('progress');
  const results = document.getElementById('results');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('X-Fragment', '1');
    box.hidden = false; bar.value = 0;
    xhr.upload.addEventListener('progress', (p) => {
      if (p.lengthComputable) bar.value = Math.round(100 * p.loaded / p.total);
    });
    xhr.addEventListener('load', () => {
      // The session ended: the sign-in page came back in place of the results.
      if (new URL(xhr.responseURL || form.action, window.location.href).pathname === '/signin') {
        window.location.assign(xhr.responseURL); return;
      }
      bar.value = 100; results.innerHTML = xhr.responseText; box.hidden = true;
      tie(form, results, 'contribute', ['files', 'collection']);
    });
    xhr.addEventListener('error', () => form.submit());
    xhr.send(new FormData(form));
  });
}

// A table wider than a phone scrolls inside its own box (.wide); a control in it that the
// focus reaches half shown, at the box's edge, Chromium left where it was: cut, its focus
// ring unseen, and one wholly out of the box too (WCAG 2.4.11; /admin at 360 px). Brought
// into view, its ring with it (scroll-margin-inline, commune.css); the box itself is a stop
// of its own, left as it is. CSS alone (scroll-padding, scroll-margin) did not do it.
document.addEventListener('focusin', (e) => {
  const box = e.target instanceof Element && e.target.parentElement
    ? e.target.parentElement.closest('.wide') : null;
  if (box) e.target.scrollIntoView({block: 'nearest', inline: 'nearest'});
});

// A page of a signed-in person, shown again from Chromium's back-forward cache despite its
// Cache-Control: no-store: after signing out at a shared computer, the next person's back
// button showed the clerk's page, their name and the question asked. Asked of the server
// again: the sign-in page once signed out; else the same page, its question and answer put
// back from the tab's history entry (remember), with what was being typed.
window.addEventListener('pageshow', (e) => {
  if (!e.persisted || !document.querySelector('.who')) return;
  const a = document.getElementById('ask');
  if (a) remember(a, document.getElementById('answer-block'));
  window.location.reload();
});

document.addEventListener('DOMContentLoaded', () => {
  forget();
  forgetKeptAnswer();
  const a = document.getElementById('ask');
  if (a) ask(a);
  // A question being typed when the page's language was changed: it was lost, the page
  // coming back in the other language with an empty box (an English-speaking resident
  // switching to English after writing). Kept for the page that follows, as at sign-in.
  const language = document.querySelector('form[action="/language"]');
  // Its answer too, once read: kept the same way, for the same person only, and forgotten
  // once put back (the next person on a shared computer finds neither).
  if (a && language) {
    language.addEventListener('submit', () => keep(a.elements.question, answered(a)));
  }
  const c = document.getElementById('contribute');
  if (c) contribute(c);
});
