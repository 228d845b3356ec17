/** The operator console's sign-in page (issue 15): one field, the operator token; no script. */
import { escapeHtml } from './html.js';

export function renderLoginPage(options: { problem?: string; next?: string } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard — sign in</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:3rem auto;max-width:26rem;color:#1f2328}
input{font:inherit;width:100%;padding:.4rem;margin:.3rem 0 .8rem;box-sizing:border-box}button{font:inherit;padding:.4rem 1rem}
.problem{color:#cf222e}</style></head>
<body><h1>Switchboard operator console</h1>
<p>Sign in with an operator token (a client configured with <code>operator: true</code>; the demo's is printed at start).</p>
${options.problem ? `<p class="problem" role="alert">${escapeHtml(options.problem)}</p>` : ''}
<form method="post" action="/status/login">
<label for="token">Operator token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form></body></html>`;
}
