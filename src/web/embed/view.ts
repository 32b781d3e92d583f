/** The widget's DOM: messages (a live region), older-history button, typing, presence, composer. */
import type { Message, RealtimeClient } from '../../client/realtime.ts';

export interface View {
  status(text: string): void;
  me(userId: string): void;
  bind(rt: RealtimeClient, roomId: string): void;
  prepend(items: Message[]): void;
  noMoreHistory(): void;
  oldestSeq(): number | undefined;
  newestSeq(): number | undefined;
  presence(userId: string, status: string): void;
  onOlder(fn: () => void): void;
}

type DeliveryState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export function createView(doc: Document, theme: 'light' | 'dark'): View {
  doc.documentElement.dataset.theme = theme;
  const $ = <T extends HTMLElement>(id: string) => doc.getElementById(id) as T;
  const list = $<HTMLOListElement>('messages');
  const bySeq = new Map<number, HTMLLIElement>();
  const byClientId = new Map<string, HTMLLIElement>();
  const online = new Set<string>();
  const typers = new Set<string>();
  let myId = '';
  let readBy = 0;
  let deliveredTo = 0;

  const setState = (li: HTMLLIElement, state: DeliveryState) => {
    li.dataset.state = state;
    li.querySelector('.state')!.textContent = state;
  };
  const refreshOwnStates = () => {
    for (const [seq, li] of bySeq) {
      if (li.dataset.mine !== 'true' || li.dataset.state === 'sending') continue;
      setState(li, seq <= readBy ? 'read' : seq <= deliveredTo ? 'delivered' : 'sent');
    }
  };
  const render = (m: Message, li = doc.createElement('li')): HTMLLIElement => {
    li.replaceChildren();
    const who = doc.createElement('span');
    who.className = 'who';
    who.textContent = m.sender_id;
    const text = doc.createElement('span');
    text.className = 'text';
    text.textContent = m.deleted_at ? '(deleted)' : m.content;
    li.append(who, text);
    li.dataset.seq = String(m.seq);
    li.dataset.sender = m.sender_id;
    if (m.sender_id === myId) {
      li.dataset.mine = 'true';
      const state = doc.createElement('span');
      state.className = 'state';
      li.append(state);
      setState(li, 'sent');
    }
    bySeq.set(m.seq, li);
    if (m.client_msg_id) byClientId.set(m.client_msg_id, li);
    return li;
  };
  const insert = (m: Message) => {
    if (bySeq.has(m.seq)) return;
    const own = m.client_msg_id ? byClientId.get(m.client_msg_id) : undefined;
    const li = render(m, own);
    const after = [...bySeq.keys()].filter((s) => s > m.seq).sort((a, b) => a - b)[0];
    if (!own) list.insertBefore(li, after === undefined ? null : bySeq.get(after)!);
    refreshOwnStates();
  };
  const showTyping = () => {
    const names = [...typers].filter((u) => u !== myId);
    $('typing').textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
  };
  const showPresence = () => {
    $('presence').textContent = online.size ? `Online: ${[...online].sort().join(', ')}` : '';
  };

  const view: View = {
    status: (text) => void ($('status').textContent = text),
    me: (id) => void (myId = id),
    prepend: (items) => items.forEach(insert),
    noMoreHistory: () => ($<HTMLButtonElement>('older').hidden = true),
    oldestSeq: () => (bySeq.size ? Math.min(...bySeq.keys()) : undefined),
    newestSeq: () => (bySeq.size ? Math.max(...bySeq.keys()) : undefined),
    presence: (userId, status) => {
      if (status === 'online') online.add(userId);
      else online.delete(userId);
      showPresence();
    },
    onOlder: (fn) => $('older').addEventListener('click', fn),
    bind: (rt, roomId) => bindClient(rt, roomId),
  };

  function markRead(rt: RealtimeClient, roomId: string) {
    const newest = view.newestSeq();
    if (newest === undefined || doc.visibilityState !== 'visible') return;
    rt.sendFrame({ type: 'ack', room_id: roomId, seq: newest });
    rt.sendFrame({ type: 'read', room_id: roomId, seq: newest });
  }

  function bindClient(rt: RealtimeClient, roomId: string) {
    rt.on('state', (s) => {
      $('conn').textContent = s === 'open' ? 'connected' : s;
      doc.body.dataset.conn = s;
    });
    rt.on('message.created', (f) => {
      if (f.room_id !== roomId) return;
      insert(f.message);
      markRead(rt, roomId);
    });
    rt.on('sync.complete', (f) => f.room_id === roomId && markRead(rt, roomId));
    rt.on('message.updated', (f) => f.room_id === roomId && bySeq.has(f.message.seq) && render(f.message, bySeq.get(f.message.seq)));
    rt.on('message.deleted', (f) => f.room_id === roomId && bySeq.has(f.message.seq) && render(f.message, bySeq.get(f.message.seq)));
    rt.on('receipt', (f) => {
      if (f.room_id !== roomId || f.user_id === myId) return;
      readBy = Math.max(readBy, f.read_seq);
      deliveredTo = Math.max(deliveredTo, f.delivered_seq);
      refreshOwnStates();
    });
    rt.on('typing', (f) => {
      if (f.room_id !== roomId) return;
      if (f.state === 'started') typers.add(f.user_id);
      else typers.delete(f.user_id);
      showTyping();
    });
    rt.on('presence', (f) => f.room_id === roomId && view.presence(f.user_id, f.status));
    bindComposer(rt, roomId);
    doc.addEventListener('visibilitychange', () => markRead(rt, roomId));
  }

  function bindComposer(rt: RealtimeClient, roomId: string) {
    const input = $<HTMLTextAreaElement>('compose');
    let typing = false;
    input.addEventListener('input', () => {
      const now = input.value.trim() !== '';
      if (now !== typing) rt.typing(roomId, (typing = now));
    });
    $<HTMLFormElement>('composer').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const content = input.value;
      if (!content.trim()) return;
      input.value = '';
      if (typing) rt.typing(roomId, (typing = false));
      sendOne(rt, roomId, content);
      input.focus();
    });
  }

  function sendOne(rt: RealtimeClient, roomId: string, content: string) {
    const clientMsgId = crypto.randomUUID();
    const li = doc.createElement('li');
    li.dataset.mine = 'true';
    li.innerHTML = '<span class="who"></span><span class="text"></span><span class="state"></span>';
    li.querySelector('.who')!.textContent = myId;
    li.querySelector('.text')!.textContent = content;
    setState(li, 'sending');
    byClientId.set(clientMsgId, li);
    list.append(li);
    rt.send(roomId, content, { clientMsgId }).then(
      (m) => insert(m),
      (err: Error) => {
        setState(li, 'failed');
        li.title = err.message;
      },
    );
  }

  return view;
}
