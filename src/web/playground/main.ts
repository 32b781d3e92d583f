/**
 * /playground: paste a credential, call any REST operation from a form built from /openapi.json,
 * or enter as a guest with a publishable key, open the WebSocket and send any client frame from a picker pre-filled with the spec's example;
 * every server frame is shown and marked valid or invalid against the AsyncAPI schema.
 */
import { call, renderForm } from './rest.ts';
import { clientFrames, operations, type Operation } from './spec.ts';
import { connect, disconnect, send } from './ws.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const wsUrl = document.querySelector<HTMLMetaElement>('meta[name="chatapi-ws"]')!.content.replace('{host}', location.hostname);

/** guestLogin with the pasted publishable key (where the tenant allows guests); the guest's token becomes the credential. */
async function enterAsGuest(): Promise<void> {
  const pk = $<HTMLInputElement>('cred-pk').value.trim();
  const res = await fetch('./v1/auth/guest', { method: 'POST', headers: { 'X-Publishable-Key': pk, 'Content-Type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { data: { user: { id: string }; access_token: { token: string } } | null; error: { message: string } | null };
  if (!body.data) return void ($('guest-status').textContent = `${res.status}: ${body.error?.message ?? ''}`);
  $<HTMLInputElement>('cred-token').value = body.data.access_token.token;
  $('guest-status').textContent = `guest ${body.data.user.id}`;
}

async function main(): Promise<void> {
  const [openapi, asyncapi] = await Promise.all([fetch('./openapi.json').then((r) => r.json()), fetch('./asyncapi.json').then((r) => r.json())]);
  const ops: Operation[] = operations(openapi);
  const opSelect = $<HTMLSelectElement>('rest-op');
  for (const op of ops) opSelect.add(new Option(`${op.id} — ${op.method} ${op.path}`, op.id));
  const current = () => ops.find((o) => o.id === opSelect.value)!;
  opSelect.addEventListener('change', () => renderForm(document, current()));
  renderForm(document, current());
  $<HTMLFormElement>('rest-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void call(document, current()).catch((err: Error) => ($('rest-status').textContent = err.message));
  });

  const frames = clientFrames(asyncapi);
  const frameSelect = $<HTMLSelectElement>('ws-frame');
  for (const f of frames) frameSelect.add(new Option(f.name, f.name));
  const fill = () => ($<HTMLTextAreaElement>('ws-text').value = JSON.stringify(frames.find((f) => f.name === frameSelect.value)?.payload ?? {}, null, 2));
  frameSelect.addEventListener('change', fill);
  fill();
  $('guest-enter').addEventListener('click', () => void enterAsGuest());
  $('ws-connect').addEventListener('click', () => void connect(document, wsUrl));
  $('ws-disconnect').addEventListener('click', () => disconnect());
  $<HTMLFormElement>('ws-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    send(document, $<HTMLTextAreaElement>('ws-text').value);
  });
  document.body.dataset.ready = 'true';
}

void main();
