/** The REST half of the playground: a form per operation, the envelope and rate-limit headers of each answer. */
import type { Operation } from './spec.ts';

const RATE_HEADERS = ['ratelimit-policy', 'ratelimit', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-request-id'];

export function credentialHeaders(doc: Document): Record<string, string> {
  const val = (id: string) => (doc.getElementById(id) as HTMLInputElement).value.trim();
  const h: Record<string, string> = {};
  if (val('cred-token')) h.Authorization = `Bearer ${val('cred-token')}`;
  if (val('cred-key')) h['X-API-Key'] = val('cred-key');
  if (val('cred-user')) h['X-User-Id'] = val('cred-user');
  if (val('cred-master')) h['X-Master-Key'] = val('cred-master');
  return h;
}

function field(doc: Document, id: string, label: string, value: string, multiline = false): HTMLElement {
  const wrap = doc.createElement('div');
  wrap.className = 'field';
  const l = doc.createElement('label');
  l.htmlFor = id;
  l.textContent = label;
  const input = doc.createElement(multiline ? 'textarea' : 'input') as HTMLInputElement;
  input.id = id;
  input.value = value;
  wrap.append(l, input);
  return wrap;
}

export function renderForm(doc: Document, op: Operation): void {
  const form = doc.getElementById('rest-fields')!;
  form.replaceChildren();
  const desc = doc.createElement('p');
  desc.textContent = `${op.method} ${op.path} — ${op.summary}`;
  form.append(desc);
  op.params.forEach((p, i) => form.append(field(doc, `p-${i}`, `${p.name} (${p.in}${p.required ? ', required' : ''})`, p.example)));
  if (op.body !== undefined) form.append(field(doc, 'rest-body', 'JSON body', op.body, true));
}

export async function call(doc: Document, op: Operation): Promise<void> {
  let path = op.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = credentialHeaders(doc);
  op.params.forEach((p, i) => {
    const v = (doc.getElementById(`p-${i}`) as HTMLInputElement).value;
    if (v === '') return;
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v));
    else if (p.in === 'query') query.set(p.name, v);
    else headers[p.name] = v;
  });
  const bodyEl = doc.getElementById('rest-body') as HTMLTextAreaElement | null;
  if (bodyEl) headers['Content-Type'] = 'application/json';
  const qs = query.toString();
  const res = await fetch(`.${path}${qs ? `?${qs}` : ''}`, { method: op.method, headers, body: bodyEl ? bodyEl.value : undefined });
  const text = await res.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: show as is
  }
  doc.getElementById('rest-status')!.textContent = `${res.status} ${res.statusText}`;
  doc.getElementById('rest-headers')!.textContent = RATE_HEADERS.filter((h) => res.headers.has(h)).map((h) => `${h}: ${res.headers.get(h)}`).join('\n');
  doc.getElementById('rest-response')!.textContent = shown;
}
