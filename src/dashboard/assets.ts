/** The dashboard's style sheet and script: served as files, so the CSP forbids inline code. */

export const STYLE = `
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#6b7385;--line:#e1e4ea;--card:#fff;--ok:#1f9d55;--fail:#d64545;--run:#2f6fde;--pend:#8a93a6;--abort:#b7791f;--pause:#7c5cc4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:24px;align-items:center;padding:12px 28px;background:#1d2330;color:#fff}
header a{color:#cfe0ff;text-decoration:none}header .sep{color:#6b7385}
.brand{font-weight:700;letter-spacing:.3px}
main{padding:20px 28px;max-width:1400px}
h1{font-size:22px;margin:0 0 14px}h2{font-size:16px;margin:26px 0 10px}h3{font-size:14px;margin:0 0 8px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
a{color:#2f5fbf}
.title{display:flex;gap:12px;align-items:center}.title h1{margin:0}
table.list{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
table.list th{font-size:12px;text-transform:uppercase;letter-spacing:.4px;color:var(--muted);text-align:left;background:#fafbfc}
table.list th,table.list td{padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}
table.list tr:last-child td{border-bottom:0}
.muted{color:var(--muted)}h3 .muted{font-weight:400}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11.5px;font-weight:600;color:#fff;background:var(--pend)}
.badge.success{background:var(--ok)}.badge.failure{background:var(--fail)}.badge.started{background:var(--run)}.badge.aborted{background:var(--abort)}.badge.paused{background:var(--pause)}.badge.draft{background:#a0a7b5}
.counters{display:inline-flex;gap:4px}.count{min-width:26px;text-align:center;padding:0 6px;border-radius:6px;background:#eef0f4;font-weight:600;font-size:12px}
.count.success{color:var(--ok)}.count.failure{color:var(--fail)}.count.aborted{color:var(--abort)}.count.started{color:var(--run)}.count.pending{color:var(--pend)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:14px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.actions{display:flex;gap:8px;margin:10px 0}.actions form{margin:0}
.btn{border:1px solid var(--line);background:#fff;border-radius:6px;padding:6px 14px;font-weight:600;cursor:pointer}
.btn.trigger{background:var(--run);border-color:var(--run);color:#fff}.btn.cancel{color:var(--fail)}.btn:hover{filter:brightness(.95)}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
.param{display:inline-block;margin:0 8px 2px 0;font-family:ui-monospace,monospace;font-size:12px;background:#eef0f4;border-radius:4px;padding:0 5px}
.skip{color:var(--abort);font-weight:600}.error{color:var(--fail)}
.empty{color:var(--muted);background:var(--card);border:1px dashed var(--line);border-radius:8px;padding:18px}
.dagbox{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px;overflow-x:auto}
svg.dag .edge{fill:none;stroke:#9aa3b5;stroke-width:1.6}
svg.dag .node rect{fill:#fff;stroke:var(--pend);stroke-width:2}
svg.dag .node .name{font-weight:600;font-size:13px;fill:var(--fg)}svg.dag .node .state{font-size:11px;fill:var(--muted)}
svg.dag .node.success rect{stroke:var(--ok);fill:#eefaf3}svg.dag .node.failure rect{stroke:var(--fail);fill:#fdeeee}
svg.dag .node.started rect{stroke:var(--run);fill:#eef4ff}svg.dag .node.aborted rect{stroke:var(--abort);fill:#fdf6e9}
section.step{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 12px}
pre.log{margin:0;background:#12161f;color:#d7dde8;border-radius:6px;padding:10px 12px;max-height:340px;overflow:auto;font-size:12.5px;white-space:pre-wrap;word-break:break-word;min-height:2.2em}
pre.log:empty::before{content:"(no output yet)";color:#6b7385}
@media (max-width:900px){.cols{grid-template-columns:1fr}}
`;

export const SCRIPT = `
'use strict';
(function () {
  var run = document.getElementById('run');
  if (!run) return;
  var ended = ['SUCCESS', 'FAILURE', 'ABORTED'];
  var logs = {};
  document.querySelectorAll('section.step').forEach(function (s) { logs[s.getAttribute('data-step')] = s.querySelector('pre.log'); });
  function setBadge(el, status) {
    if (!el) return;
    el.textContent = status;
    el.setAttribute('data-status', status);
    el.className = 'badge ' + status.toLowerCase();
  }
  function refresh() {
    fetch(run.getAttribute('data-state'), { headers: { accept: 'application/json' } }).then(function (r) { return r.json(); }).then(function (s) {
      setBadge(document.querySelector('.title .badge'), s.status);
      s.steps.forEach(function (st) {
        var node = document.querySelector('svg.dag .node[data-step="' + CSS.escape(st.stepId) + '"]');
        if (node) { node.setAttribute('class', 'node ' + st.status.toLowerCase()); node.querySelector('.state').textContent = st.status; }
        var sec = document.querySelector('section.step[data-step="' + CSS.escape(st.stepId) + '"]');
        if (sec) setBadge(sec.querySelector('h3 .badge'), st.status);
      });
      run.setAttribute('data-status', s.status);
      if (ended.indexOf(s.status) < 0) setTimeout(refresh, 1000);
    }).catch(function () { setTimeout(refresh, 3000); });
  }
  refresh();
  var src = new EventSource(run.getAttribute('data-state').replace(/\\/state$/, '/logs'));
  // A reconnect replays each log from its start.
  src.addEventListener('open', function () { Object.keys(logs).forEach(function (k) { if (logs[k]) logs[k].textContent = ''; }); });
  src.addEventListener('chunk', function (e) {
    var d = JSON.parse(e.data);
    var pre = logs[d.step];
    if (!pre) return;
    var stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(d.text));
    if (stick) pre.scrollTop = pre.scrollHeight;
  });
  src.addEventListener('done', function () { src.close(); document.body.setAttribute('data-logs', 'done'); });
})();
`;
