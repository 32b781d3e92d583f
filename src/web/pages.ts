/** HTML of the served pages. Every URL is relative to this server: no CDN, works offline. */

/**
 * The start of every page up to its own head content: doctype, charset, viewport, title, and, for
 * pages that open the WebSocket, where it is (`{host}` becomes the page's own host name in the browser).
 */
export function pageStart(title: string, wsPort?: number): string {
  const ws = wsPort === undefined ? '' : `\n  <meta name="chatapi-ws" content="ws://{host}:${wsPort}/v1/ws">`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">${ws}
  <title>${title}</title>`;
}

export function asyncapiPage(): string {
  return `${pageStart('chatapi WebSocket reference')}
  <link rel="stylesheet" href="asyncapi/default.min.css">
  <style>body { margin: 0; } .chatapi-specs { font: 14px sans-serif; padding: 8px 20px; background: #f3f4f6; }</style>
</head>
<body>
  <nav class="chatapi-specs" aria-label="API references">
    References: <a href="../docs">REST (OpenAPI)</a> · <strong>WebSocket (AsyncAPI)</strong> ·
    specs: <a href="../openapi.yaml">openapi.yaml</a> · <a href="../asyncapi.yaml">asyncapi.yaml</a>
  </nav>
  <main id="asyncapi"></main>
  <script src="asyncapi/standalone.js"></script>
  <script>
    AsyncApiStandalone.render({
      schema: { url: '../asyncapi.yaml', requestOptions: {} },
      config: { show: { sidebar: true, errors: true }, expand: { messageExamples: true } },
    }, document.getElementById('asyncapi'));
  </script>
</body>
</html>
`;
}

const EMBED_CSS = `
:root { --bg: #ffffff; --fg: #111827; --muted: #4b5563; --mine: #dbeafe; --other: #f3f4f6; --accent: #1d4ed8; --border: #d1d5db; }
:root[data-theme="dark"] { --bg: #111827; --fg: #f9fafb; --muted: #d1d5db; --mine: #1e3a8a; --other: #1f2937; --accent: #93c5fd; --border: #374151; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; min-width: 0; background: var(--bg); color: var(--fg); font: 15px/1.4 system-ui, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 4px 12px; padding: 6px 10px; border-bottom: 1px solid var(--border); font-size: 13px; color: var(--muted); }
#log { flex: 1; overflow-y: auto; padding: 6px 10px; }
#messages { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
#messages li { padding: 4px 8px; border-radius: 8px; background: var(--other); overflow-wrap: anywhere; max-width: 90%; }
#messages li[data-mine="true"] { background: var(--mine); align-self: flex-end; }
.who { font-weight: 600; margin-right: 6px; } .state { margin-left: 6px; font-size: 12px; color: var(--muted); }
#typing { min-height: 1.4em; margin: 0; padding: 0 10px; font-size: 13px; color: var(--muted); }
#status { margin: 0; padding: 0 10px; font-size: 13px; color: var(--muted); }
form { display: flex; gap: 6px; padding: 6px 10px; border-top: 1px solid var(--border); }
textarea { flex: 1; min-width: 0; resize: none; height: 2.6em; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 4px 6px; }
button { font: inherit; color: var(--bg); background: var(--accent); border: 0; border-radius: 6px; padding: 4px 12px; }
#older { margin: 4px auto; display: block; color: var(--accent); background: transparent; border: 1px solid var(--border); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** The widget. `{host}` in the WebSocket URL becomes the page's own host name in the browser. */
export function embedPage(wsPort: number): string {
  return `${pageStart('Chat', wsPort)}
  <style>${EMBED_CSS}</style>
</head>
<body>
  <header>
    <span>Connection: <span id="conn">idle</span></span>
    <span id="presence" aria-live="polite"></span>
  </header>
  <p id="status" role="status"></p>
  <div id="log">
    <button id="older" type="button">Load older messages</button>
    <ol id="messages" aria-label="Messages" aria-live="polite" aria-relevant="additions"></ol>
  </div>
  <p id="typing" aria-live="polite"></p>
  <form id="composer">
    <label for="compose" class="visually-hidden">Message</label>
    <textarea id="compose" name="content" placeholder="Write a message…" maxlength="4000"></textarea>
    <button type="submit">Send</button>
  </form>
  <script type="module" src="web/embed.js"></script>
</body>
</html>
`;
}
