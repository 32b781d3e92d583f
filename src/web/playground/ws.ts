/** The WebSocket half of the playground: connect, send any client frame, log every server frame with its validity. */
import validators from '../../../generated/validators.cjs';
import { credentialHeaders } from './rest.ts';

let socket: WebSocket | undefined;

function log(doc: Document, direction: 'in' | 'out' | 'note', text: string, valid?: { ok: boolean; why: string }): void {
  const li = doc.createElement('li');
  li.className = direction;
  li.dataset.direction = direction;
  if (valid) {
    li.dataset.valid = String(valid.ok);
    const badge = doc.createElement('span');
    badge.className = valid.ok ? 'badge ok' : 'badge bad';
    badge.textContent = valid.ok ? 'valid' : `invalid: ${valid.why}`;
    li.append(badge);
  }
  const pre = doc.createElement('code');
  pre.textContent = `${direction === 'in' ? '←' : direction === 'out' ? '→' : '•'} ${text}`;
  li.append(pre);
  doc.getElementById('ws-log')!.append(li);
}

function check(frame: unknown): { ok: boolean; why: string } {
  const ok = validators.ServerFrame(frame);
  const why = (validators.ServerFrame.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '(frame)'} ${e.message}`).join('; ');
  return { ok, why };
}

/** Opens the socket: a token goes in the `auth` frame; a key + user id buys a one-time ticket first. */
export async function connect(doc: Document, wsUrl: string): Promise<void> {
  socket?.close(1000, 'reconnect');
  const headers = credentialHeaders(doc);
  let url = wsUrl;
  if (!headers.Authorization && headers['X-API-Key']) {
    const res = await fetch('./v1/realtime/tickets', { method: 'POST', headers });
    const body = (await res.json()) as { data: { ticket: string } | null; error: { message: string } | null };
    if (!body.data) return log(doc, 'note', `ticket refused: ${body.error?.message}`);
    url = `${wsUrl}?ticket=${encodeURIComponent(body.data.ticket)}`;
  }
  const ws = new WebSocket(url);
  socket = ws;
  doc.body.dataset.ws = 'connecting';
  ws.onopen = () => {
    doc.body.dataset.ws = 'open';
    log(doc, 'note', `open ${url.replace(/ticket=[^&]+/, 'ticket=…')}`);
    const token = headers.Authorization?.replace(/^Bearer /, '');
    if (token) send(doc, JSON.stringify({ type: 'auth', token }));
  };
  ws.onmessage = (ev) => {
    let frame: unknown;
    try {
      frame = JSON.parse(String(ev.data));
    } catch {
      return log(doc, 'in', String(ev.data), { ok: false, why: 'not JSON' });
    }
    log(doc, 'in', String(ev.data), check(frame));
  };
  ws.onclose = (ev) => {
    doc.body.dataset.ws = 'closed';
    log(doc, 'note', `closed ${ev.code} ${ev.reason || '(no reason)'}`);
  };
}

export function send(doc: Document, text: string): void {
  if (socket?.readyState !== WebSocket.OPEN) return log(doc, 'note', 'not connected');
  socket.send(text);
  log(doc, 'out', text.replace(/("token"\s*:\s*")[^"]+/, '$1…'));
}

export function disconnect(): void {
  socket?.close(1000, 'bye');
}
