/**
 * Benchmark subject `uws-raw`: the ceiling. A minimal uWebSockets.js server where each socket
 * subscribes to the topic named in `?room=` and every text frame it sends is published, as is,
 * to that topic (the sender included, as chat rooms do). No auth, no storage, no parsing.
 */
import uWS from 'uWebSockets.js';

if (!('SSLApp' in uWS)) {
  console.error('uws-raw: the native uWebSockets.js binary did not load (JS fallback refused)');
  process.exit(2);
}

interface Data { room: string }

const app = uWS.App().ws<Data>('/*', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    const room = new URLSearchParams(req.getQuery() ?? '').get('room') ?? 'lobby';
    res.upgrade<Data>({ room }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => { ws.subscribe(ws.getUserData().room); },
  message: (ws, message, isBinary) => { app.publish(ws.getUserData().room, message, isBinary); },
});

app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) { console.error('uws-raw: listen failed'); process.exit(1); }
  process.send?.({ type: 'ready', port: uWS.us_socket_local_port(listenSocket) });
});
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') process.exit(0); });
