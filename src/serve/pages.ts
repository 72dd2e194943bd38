/** The pages' HTML: a frame the page's script fills from the JSON API (nothing from the runs is put in here). */

export type PageName = 'index' | 'run' | 'compare';

const TITLES: Record<PageName, string> = { index: 'runs', run: 'run', compare: 'compare' };

export function page(name: PageName): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resnet-exp: ${TITLES[name]}</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/vega.min.js"></script>
<script src="/static/vega-lite.min.js"></script>
<script src="/static/vega-embed.min.js"></script>
<script type="module" src="/static/app/${name}.js"></script>
</head>
<body>
<header><a href="/" class="home">resnet-exp</a> <span id="where"></span></header>
<main id="main"><p class="muted">loading…</p></main>
</body>
</html>
`;
}

export const STYLE = `
:root { --fg: #222; --muted: #777; --line: #ddd; --accent: #1f77b4; --bad: #b00020; --warn: #a66400; --ok: #2e7d32; }
body { font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); margin: 0; }
header { padding: 8px 16px; border-bottom: 1px solid var(--line); background: #fafafa; }
header .home { font-weight: bold; color: var(--fg); text-decoration: none; }
main { padding: 12px 16px 40px; }
h1 { font-size: 20px; margin: 4px 0 8px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
table { border-collapse: collapse; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable[aria-sort=ascending]::after { content: " ▲"; }
th.sortable[aria-sort=descending]::after { content: " ▼"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.nets { font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; border: 1px solid currentColor; }
.status-running { color: var(--accent); }
.status-completed { color: var(--ok); }
.status-interrupted, .status-stale { color: var(--warn); }
.status-error { color: var(--bad); }
.status-starting { color: var(--muted); }
progress { width: 110px; vertical-align: middle; }
.error { color: var(--bad); border: 1px solid var(--bad); padding: 8px; margin: 8px 0; white-space: pre-wrap; }
.warning { color: var(--warn); margin: 2px 0; }
.toolbar { margin: 8px 0; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
input[type=search] { width: 260px; padding: 3px 6px; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 420px; }
.figure { margin: 8px 0 16px; }
.verdicts p { margin: 2px 0; white-space: pre-wrap; }
.facts span { margin-right: 16px; }
`;
