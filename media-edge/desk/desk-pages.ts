// The desk's server-rendered pages: sign-in, the calls list and one call. Data is filled in
// and refreshed by the page script (desk-page-script.ts) from the desk's JSON routes; all
// caller-supplied text is escaped here and set as text (never as HTML) there.
import type { DeskUser } from './desk-user';

export interface PageOptions {
  /** Scripts of the browser media client (WebRTC), which defines window.deskMedia. */
  mediaScripts: readonly string[];
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f6f9}
header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;background:#1d2330;color:#fff}
header a{color:#fff}header .who{margin-left:auto}
main{padding:1em 1.2em;max-width:70em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #dde2ea}
.badge{display:inline-block;padding:.1em .5em;border-radius:1em;font-size:.85em;background:#dde2ea}
.badge.waiting{background:#ffcf5c}.badge.with_human{background:#7fd1a7}
.panel{background:#fff;padding:.8em 1em;margin:.8em 0;border-radius:.4em}
#transcript{list-style:none;padding:0;max-height:50vh;overflow:auto}
#transcript li{margin:.3em 0}#transcript .caller b{color:#2357c6}#transcript .agent b{color:#8a4b00}
button{font:inherit;padding:.4em .9em;margin-right:.4em}
.error{color:#b00020}.muted{color:#667}
form.login{background:#fff;max-width:20em;margin:4em auto;padding:1.5em;border-radius:.4em}
form.login input{display:block;width:100%;margin:.3em 0 .8em;padding:.4em;box-sizing:border-box}
`;

function page(
  title: string,
  body: string,
  user?: DeskUser,
  scripts: readonly string[] = [],
): string {
  const nav = user
    ? `<header><strong>Switchboard desk</strong><a href="/desk/">Calls</a>
<span class="who">${esc(user.name)} (${user.role})</span>
<form method="post" action="/desk/logout"><button id="logout">Sign out</button></form></header>`
    : '<header><strong>Switchboard desk</strong></header>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body data-role="${user?.role ?? ''}" data-user="${esc(user?.name ?? '')}">${nav}<main>${body}</main>
${scripts.map((src) => `<script src="${esc(src)}"></script>`).join('\n')}</body></html>`;
}

export function loginPage(error?: string): string {
  return page(
    'Sign in — Switchboard desk',
    `<form class="login" method="post" action="/desk/login">
<h1>Sign in</h1>${error ? `<p class="error" id="login-error">${esc(error)}</p>` : ''}
<label>Name<input name="name" autocomplete="username" required></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`,
  );
}

export function callsPage(user: DeskUser, opts: PageOptions): string {
  return page(
    'Calls — Switchboard desk',
    `<h1>Live calls</h1>
<table id="live-calls"><thead><tr><th>Caller</th><th>Customer</th><th>Intent path</th><th>State</th><th>Duration</th><th></th></tr></thead>
<tbody></tbody></table><p class="muted" id="live-empty" hidden>No live calls.</p>
<h2>Finished calls</h2>
<table id="finished-calls"><thead><tr><th>Caller</th><th>Customer</th><th>Intent path</th><th>Disposition</th><th>Duration</th><th>Handled by</th><th></th></tr></thead>
<tbody></tbody></table>`,
    user,
    [...opts.mediaScripts, '/desk/assets/desk.js'],
  );
}

export function callPage(user: DeskUser, callSid: string, opts: PageOptions): string {
  const supervisor = user.role === 'supervisor';
  return page(
    `Call ${callSid} — Switchboard desk`,
    `<section id="call" data-call-sid="${esc(callSid)}">
<h1>Call from <span id="caller">…</span></h1>
<p><span id="state" class="badge">…</span> <span id="duration"></span> · customer <span id="customer">—</span> · intents <span id="intents">—</span></p>
<div class="panel"><h2>What the assistant gathered</h2><p id="summary" class="muted"></p><p id="context" class="muted"></p></div>
<div class="panel" id="actions">
<button id="take-over">Take over</button><button id="hand-back">Hand back to the assistant</button><button id="end-call">End call</button>
${supervisor ? '<button id="listen">Listen</button><button id="whisper">Whisper</button>' : ''}
<p id="action-status" role="status"></p><p id="media-status" class="muted"></p></div>
<div class="panel"><h2>Transcript</h2><ol id="transcript"></ol></div>
<div class="panel" id="recording-panel" hidden><h2>Recording</h2><audio id="recording" controls preload="none"></audio></div>
</section>`,
    user,
    [...opts.mediaScripts, '/desk/assets/desk.js'],
  );
}
