/**
 * Benchmark subject `ws-loop`: what most Node chat servers do. A `ws` server keeping a Set of
 * sockets per room (from `?room=`) and looping over it to send each incoming frame to every
 * member (the sender included).
 */
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'lobby';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const member of members) member.send(data, { binary: isBinary });
  });
  ws.on('close', () => { members.delete(ws); });
  ws.on('error', () => ws.terminate());
});

wss.on('listening', () => {
  const address = wss.address();
  process.send?.({ type: 'ready', port: address && typeof address !== 'string' ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') process.exit(0); });
