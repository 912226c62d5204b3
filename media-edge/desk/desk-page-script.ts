// The desk pages' script, served as /desk/assets/desk.js: it polls the desk's JSON routes
// (the list every 2 s, a call every second) and renders with textContent only (caller speech
// is untrusted). Take over, Listen and Whisper join the call's audio through
// window.deskMedia (the browser media client) when the page has it; otherwise the page says
// that audio is unavailable. Plain ES2020, no framework, nothing from a CDN.
export const DESK_PAGE_SCRIPT = String.raw`(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const role = document.body.dataset.role;
  const text = (el, value) => { if (el) el.textContent = value == null ? '' : String(value); };
  const mmss = (ms) => { const s = Math.floor(ms / 1000); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
  const words = (path) => (path && path.length ? path.map((i) => i.replace(/_/g, ' ')).join(' → ') : '—');

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (res.status === 401) { location.href = '/desk/login'; throw new Error('signed out'); }
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
    return res.json();
  }
  async function post(url, body) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.error || res.statusText);
    return json;
  }
  function cell(tr, value) { const td = document.createElement('td'); text(td, value); tr.appendChild(td); return td; }
  function badge(state) { const b = document.createElement('span'); b.className = 'badge ' + state; text(b, state === 'waiting' ? 'waiting for a human' : state.replace(/_/g, ' ')); return b; }

  function renderLive(rows) {
    const body = $('live-calls').tBodies[0];
    body.replaceChildren(...rows.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.callSid = c.callSid;
      tr.className = c.waitingForHuman ? 'waiting' : '';
      cell(tr, c.caller || 'unknown'); cell(tr, c.customer || '—'); cell(tr, words(c.intentPath));
      cell(tr, '').appendChild(badge(c.state));
      cell(tr, mmss(c.durationMs));
      const a = document.createElement('a'); a.href = '/desk/calls/' + encodeURIComponent(c.callSid); text(a, 'Open');
      cell(tr, '').appendChild(a);
      return tr;
    }));
    $('live-empty').hidden = rows.length > 0;
  }
  function renderFinished(rows) {
    $('finished-calls').tBodies[0].replaceChildren(...rows.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.callSid = c.callSid;
      cell(tr, c.caller || 'unknown'); cell(tr, c.customer || '—'); cell(tr, words(c.intentPath));
      cell(tr, c.disposition || '—'); cell(tr, mmss(c.durationMs)); cell(tr, (c.handoff && c.handoff.agent) || '—');
      const a = document.createElement('a'); a.href = '/desk/calls/' + encodeURIComponent(c.callSid); text(a, c.hasRecording ? 'Recording' : 'Open');
      cell(tr, '').appendChild(a);
      return tr;
    }));
  }
  async function refreshList() {
    try {
      const data = await getJson('/desk/api/calls');
      renderLive(data.live); renderFinished(data.finished);
    } catch (err) { console.warn(err); }
  }

  // The page's one audio session: joining again replaces it; handing the call back ends it.
  let audio, audioMode;
  function leaveAudio(why) {
    if (!audio) return;
    const leaving = audio; audio = undefined; audioMode = undefined;
    Promise.resolve(leaving).then((s) => s && s.leave()).catch(() => undefined);
    text($('media-status'), 'Audio closed (' + why + ').');
  }
  function joinAudio(callSid, mode) {
    const media = window.deskMedia;
    if (!media || typeof media.join !== 'function') { text($('media-status'), 'Audio is unavailable on this desk: the call continues without your voice.'); return; }
    leaveAudio('switching');
    text($('media-status'), 'Connecting audio (' + mode + ')…');
    const joining = Promise.resolve(media.join({ callSid, mode }));
    audio = joining.catch(() => undefined); audioMode = mode;
    joining
      .then(() => text($('media-status'), 'Audio connected (' + mode + ').'))
      .catch((err) => text($('media-status'), 'Audio failed: ' + err.message));
  }

  function callPage(section) {
    const callSid = section.dataset.callSid;
    const base = '/desk/api/calls/' + encodeURIComponent(callSid);
    const me = document.body.dataset.user;
    let recordingShown = false;
    // Answers can overtake each other: an older one never undoes what a newer one showed.
    let asked = 0, shown = 0, held = false;
    async function refresh() {
      let c;
      const mine = ++asked;
      try { c = await getJson(base); } catch (err) { text($('action-status'), err.message); return; }
      if (mine < shown) return c;
      shown = mine;
      text($('caller'), c.caller || 'unknown'); text($('customer'), c.customer || '—');
      text($('intents'), words(c.intentPath)); text($('duration'), mmss(c.durationMs));
      const st = $('state'); st.className = 'badge ' + c.state;
      text(st, c.live ? (c.state === 'waiting' ? 'waiting for a human' : c.state.replace(/_/g, ' ')) + (c.handoff && c.handoff.agent ? ' · ' + c.handoff.agent : '') : 'ended · ' + (c.disposition || ''));
      text($('summary'), c.summary || '');
      text($('context'), (c.context.customer ? 'Customer ' + c.context.customer.name + ' (' + c.context.customer.id + ')' : 'Caller not identified') + ' · ' + c.context.turns + ' turns' + (c.context.callbackRequested ? ' · a callback is owed' : ''));
      const list = $('transcript');
      const seen = list.children.length;
      for (const line of c.transcript.slice(seen)) {
        const li = document.createElement('li'); li.className = line.speaker; li.dataset.seq = line.seq;
        const who = document.createElement('b'); text(who, line.speaker === 'caller' ? 'Caller: ' : 'Assistant: ');
        li.append(who, document.createTextNode(line.text)); list.appendChild(li);
        list.scrollTop = list.scrollHeight;
      }
      const h = c.handoff;
      const holding = c.live && h && h.status === 'with_human' && h.agent === me;
      $('take-over').disabled = !(c.live && h && h.status === 'waiting');
      $('hand-back').disabled = !holding; $('end-call').disabled = !holding;
      // Handed back (here or elsewhere) or ended: this agent's voice leaves the caller's line.
      if (audioMode === 'talk' && held && !holding) leaveAudio(c.live ? 'the assistant has the call' : 'the call ended');
      held = holding;
      if ($('listen')) { $('listen').disabled = !c.live; $('whisper').disabled = !c.live; }
      if (!c.live && c.hasRecording && !recordingShown) {
        recordingShown = true; $('recording-panel').hidden = false; $('recording').src = base + '/recording';
      }
      return c;
    }
    function act(button, path, after) {
      button.addEventListener('click', async () => {
        button.disabled = true; text($('action-status'), '');
        try { await post(base + '/' + path); if (after) after(); await refresh(); }
        catch (err) { text($('action-status'), err.message); button.disabled = false; }
      });
    }
    act($('take-over'), 'accept', () => joinAudio(callSid, 'talk'));
    act($('hand-back'), 'hand-back', () => leaveAudio('handed back'));
    act($('end-call'), 'end');
    if (role === 'supervisor') {
      act($('listen'), 'monitor?mode=listen', () => joinAudio(callSid, 'listen'));
      act($('whisper'), 'monitor?mode=whisper', () => joinAudio(callSid, 'whisper'));
    }
    refresh();
    setInterval(refresh, 1000);
  }

  if ($('live-calls')) { refreshList(); setInterval(refreshList, 2000); }
  const section = $('call');
  if (section) callPage(section);
})();
`;
