/**
 * /embed.html?room=<id>[&theme=dark][&pk=<publishable key>&invite=<code>&name=<display name>]: the
 * embeddable chat. Without a credential from the host page and with `pk`, it enters as a guest
 * where the tenant allows it (guest.ts). The host page hands it a credential by
 * postMessage ({type: 'chatapi:auth', token} or {type: 'chatapi:auth', ticket}); no secret key
 * ever reaches the browser. The host page's origin travels with the WebSocket upgrade
 * (`embed_origin`) and is held to the tenant's allowed_origins: a page that is not listed gets a
 * 4009 close and no session, before any REST call is made.
 */
import { RealtimeClient, type Message } from '../../client/realtime.ts';
import { enterAsGuest } from './guest.ts';
import { View } from './view.ts';

const params = new URLSearchParams(location.search);
const roomId = params.get('room') ?? '';
const wsUrl = document.querySelector<HTMLMetaElement>('meta[name="chatapi-ws"]')!.content.replace('{host}', location.hostname);

interface Credential { token?: string; ticket?: string; origin: string; source: MessageEventSource | null }

/** How long a widget with a publishable key waits for the host page's credential before entering as a guest. */
const HOST_GRACE_MS = 1000;

function waitForCredential(graceMs?: number): Promise<Credential | undefined> {
  return new Promise((resolve) => {
    if (graceMs !== undefined) setTimeout(() => { window.removeEventListener('message', onMessage); resolve(undefined); }, graceMs);
    const onMessage = (ev: MessageEvent) => {
      const d = ev.data as { type?: string; token?: string; ticket?: string };
      if (d?.type !== 'chatapi:auth' || (!d.token && !d.ticket)) return;
      window.removeEventListener('message', onMessage);
      resolve({ token: d.token, ticket: d.ticket, origin: ev.origin, source: ev.source });
    };
    window.addEventListener('message', onMessage);
    window.parent.postMessage({ type: 'chatapi:ready', room: roomId }, '*');
  });
}

/** A fresh one-time ticket from the host page for each (re)connect. */
function askTicket(cred: Credential): Promise<string> {
  if (cred.ticket) {
    const t = cred.ticket;
    cred.ticket = undefined;
    return Promise.resolve(t);
  }
  return new Promise((resolve) => {
    const onMessage = (ev: MessageEvent) => {
      if (ev.origin !== cred.origin || (ev.data as { type?: string })?.type !== 'chatapi:ticket') return;
      window.removeEventListener('message', onMessage);
      resolve((ev.data as { ticket: string }).ticket);
    };
    window.addEventListener('message', onMessage);
    (cred.source as Window | null)?.postMessage({ type: 'chatapi:ticket-request', room: roomId }, cred.origin);
  });
}

async function api<T>(token: string, path: string): Promise<T> {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { success: boolean; data: T; error: { message: string } | null };
  if (!body.success) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  return body.data;
}

async function loadOlder(view: View, token: string): Promise<void> {
  const oldest = view.oldestSeq();
  if (oldest !== undefined && oldest <= 1) return view.noMoreHistory();
  const query = oldest === undefined ? 'limit=20' : `before_seq=${oldest}&limit=20`;
  const page = await api<{ items: Message[]; has_more: boolean }>(token, `/v1/rooms/${encodeURIComponent(roomId)}/messages?${query}`);
  view.prepend(page.items);
  if (oldest === undefined) view.scrollToEnd();
  if (!page.has_more) view.noMoreHistory();
}

/** The host page's credential, else (with `?pk=`) a guest's token; undefined when there is none to be had. */
async function credential(view: View): Promise<Credential | undefined> {
  const pk = params.get('pk');
  const fromHost = await waitForCredential(pk ? HOST_GRACE_MS : undefined);
  if (fromHost || !pk) return fromHost;
  view.status('Entering as a guest…');
  const guest = await enterAsGuest(pk, params.get('invite') ?? '', params.get('name') ?? '');
  if ('unavailable' in guest) return void view.status('Guest sign-in not available for this chat.');
  if ('error' in guest) return void view.status(guest.error);
  // The embedding page's origin, which the tenant must list as for a host-page credential.
  const origin = location.ancestorOrigins?.[0] ?? '';
  return { token: guest.token, origin, source: null };
}

async function main(): Promise<void> {
  const view = new View(document, params.get('theme') === 'dark' ? 'dark' : 'light');
  if (!roomId) return view.status('No room given (?room=…)');
  view.status('Waiting for the host page to sign in…');
  const cred = await credential(view);
  if (!cred) return;
  const rt = new RealtimeClient({
    url: wsUrl,
    auth: cred.token ? { token: cred.token } : { ticket: () => askTicket(cred) },
    query: cred.origin ? { embed_origin: cred.origin } : {},
  });
  view.bind(rt, roomId);
  let started = false;
  rt.on('connected', (f) => {
    view.me(f.user.id);
    view.status('');
    if (started) return; // a reconnect: the client resumed from its positions itself
    // With a ticket there is no token for REST: history comes from the replay the client asked for on open.
    if (!cred.token) return view.noMoreHistory();
    started = true;
    void loadOlder(view, cred.token)
      .then(() => api<{ items: { user_id: string; status: string }[] }>(cred.token!, `/v1/rooms/${encodeURIComponent(roomId)}/presence`))
      .then((p) => p.items.forEach((e) => view.presence(e.user_id, e.status)))
      .catch((err: Error) => view.status(err.message))
      .finally(() => {
        const newest = view.newestSeq();
        if (newest !== undefined) rt.setPosition(roomId, newest);
        rt.resume();
      });
  });
  rt.on('close', (c) => {
    if (c.code === 4009) view.status('This page is not allowed to embed the chat (origin not in the tenant\'s allowed_origins).');
    else if (c.code === 4003) view.status('The credential was refused (4003).');
  });
  view.onOlder(() => cred.token && void loadOlder(view, cred.token));
  rt.connect();
}

void main();
