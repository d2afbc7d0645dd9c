/**
 * The development host's delivery list: one self-contained page that polls `/api/state` every
 * second. Text from the relay or the plugin is inserted with `textContent`, never as HTML.
 */
export function renderDevPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lime-connect-webhook development host</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2933; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.5rem; }
  button { margin: 0 .4rem .4rem 0; padding: .35rem .7rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d9e2ec; vertical-align: top; }
  .delivered { color: #0b7a3e; } .dead { color: #b42318; } .retrying, .pending { color: #9a6700; } .skipped { color: #52606d; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>lime-connect-webhook development host</h1>
<p>Relay: <code id="relay-url"></code>, answering <strong id="relay-mode"></strong></p>
<h2>Fire an outcome from a lime://connect link</h2>
<button data-fire="confirmed">Confirmed</button>
<button data-fire="cancelled">Cancelled</button>
<button data-fire="failed">Failed</button>
<h2>Relay behaviour</h2>
<button data-mode="ok">Answer 200</button>
<button data-mode="fail-once">Fail the next one (503)</button>
<button data-mode="fail-503">Fail with 503</button>
<button data-mode="hang">Never answer</button>
<button data-mode="gone">Answer 410 Gone</button>
<h2>Deliveries</h2>
<table>
  <thead><tr><th>Event id</th><th>Outcome</th><th>Ref</th><th>Delivery</th><th>Attempts</th><th>Last attempt</th><th>Next retry</th></tr></thead>
  <tbody id="events"></tbody>
</table>
<h2>Received by the relay</h2>
<table>
  <thead><tr><th>Time</th><th>webhook-id</th><th>Signature</th><th>Answer</th><th>Duplicate</th></tr></thead>
  <tbody id="received"></tbody>
</table>
<script>
  const cell = (row, text, className) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
  };
  const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
  const describe = (attempt) => {
    if (!attempt) return '';
    const what = attempt.httpStatus ? 'HTTP ' + attempt.httpStatus : (attempt.errorClass || '') + ' ' + (attempt.errorMessage || '');
    return what + ' in ' + Math.round(attempt.durationMs) + ' ms' + (attempt.location ? ' (Location ' + attempt.location + ')' : '');
  };
  async function refresh() {
    const state = await (await fetch('/api/state')).json();
    document.getElementById('relay-url').textContent = state.relay.url;
    document.getElementById('relay-mode').textContent = state.relay.mode;
    const events = document.getElementById('events');
    events.replaceChildren();
    for (const event of state.events) {
      const row = document.createElement('tr');
      cell(row, event.id);
      cell(row, event.status);
      cell(row, event.ref || '');
      cell(row, event.state + (event.reason ? ': ' + event.reason : ''), event.state);
      cell(row, String(event.attemptCount));
      cell(row, describe(event.attempts[event.attempts.length - 1]));
      cell(row, time(event.nextAt));
      events.appendChild(row);
    }
    const received = document.getElementById('received');
    received.replaceChildren();
    for (const entry of state.relay.received.slice().reverse()) {
      const row = document.createElement('tr');
      cell(row, time(entry.receivedAt));
      cell(row, entry.eventId);
      cell(row, entry.verified ? 'verified' : entry.problem || 'not verified', entry.verified ? 'delivered' : 'dead');
      cell(row, String(entry.answeredWith));
      cell(row, entry.duplicate ? 'yes' : 'no');
      received.appendChild(row);
    }
  }
  document.addEventListener('click', async (click) => {
    const button = click.target.closest('button');
    if (!button) return;
    if (button.dataset.fire) await fetch('/api/fire?kind=' + button.dataset.fire, { method: 'POST' });
    if (button.dataset.mode) await fetch('/api/relay-mode?mode=' + button.dataset.mode, { method: 'POST' });
    refresh();
  });
  refresh();
  setInterval(refresh, 1000);
</script>
</body>
</html>
`;
}
