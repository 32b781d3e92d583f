import { pageStart } from './pages.ts';

/** HTML of /playground (its script: src/web/playground/). Every URL is relative: no CDN. */
export function playgroundPage(wsPort: number): string {
  return `${pageStart('chatapi playground', wsPort)}
  <style>
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #111827; }
    header, main { padding: 8px 16px; } header { background: #f3f4f6; }
    main { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
    fieldset { border: 1px solid #d1d5db; border-radius: 6px; } .field { display: flex; flex-direction: column; margin: 4px 0; }
    input, textarea, select { font: 13px monospace; padding: 3px; max-width: 100%; } textarea { min-height: 7em; }
    pre, #ws-log { background: #f9fafb; border: 1px solid #e5e7eb; padding: 6px; overflow: auto; max-height: 420px; font-size: 12px; }
    #ws-log { list-style: none; margin: 0; } #ws-log li { margin: 2px 0; word-break: break-all; }
    .badge { font: 11px sans-serif; border-radius: 4px; padding: 0 4px; margin-right: 4px; } .ok { background: #dcfce7; } .bad { background: #fee2e2; }
    :focus-visible { outline: 3px solid #1d4ed8; }
  </style>
</head>
<body>
  <header>
    <strong>chatapi playground</strong> · <a href="docs">REST reference</a> · <a href="docs/asyncapi">WebSocket reference</a>
    <fieldset>
      <legend>Credential (sent with each call; kept in this page only)</legend>
      <label for="cred-token">User token (Bearer)</label> <input id="cred-token" size="40" autocomplete="off">
      <label for="cred-key">API key</label> <input id="cred-key" size="30" autocomplete="off">
      <label for="cred-user">X-User-Id</label> <input id="cred-user" size="12" autocomplete="off">
      <label for="cred-master">Master key</label> <input id="cred-master" size="30" autocomplete="off">
      <label for="cred-pk">Publishable key</label> <input id="cred-pk" size="30" autocomplete="off">
      <button id="guest-enter" type="button">Enter as guest</button> <output id="guest-status"></output>
    </fieldset>
  </header>
  <main>
    <section aria-labelledby="rest-h">
      <h2 id="rest-h">REST</h2>
      <form id="rest-form">
        <label for="rest-op">Operation</label> <select id="rest-op"></select>
        <div id="rest-fields"></div>
        <button type="submit">Send request</button>
      </form>
      <h3>Status</h3><pre id="rest-status" aria-live="polite"></pre>
      <h3>Rate-limit headers</h3><pre id="rest-headers"></pre>
      <h3>Envelope</h3><pre id="rest-response"></pre>
    </section>
    <section aria-labelledby="ws-h">
      <h2 id="ws-h">WebSocket</h2>
      <button id="ws-connect" type="button">Connect</button> <button id="ws-disconnect" type="button">Disconnect</button>
      <form id="ws-form">
        <label for="ws-frame">Client frame</label> <select id="ws-frame"></select>
        <div class="field"><label for="ws-text">Frame JSON</label><textarea id="ws-text"></textarea></div>
        <button type="submit">Send frame</button>
      </form>
      <h3>Frames</h3>
      <ol id="ws-log" aria-live="polite" aria-label="Frames"></ol>
    </section>
  </main>
  <script type="module" src="web/playground.js"></script>
</body>
</html>
`;
}
