/** The widget's DOM: messages (a live region), older-history button, typing, presence, composer. */
import type { Message, RealtimeClient } from '../../client/realtime.ts';
import { RoomPresence } from '../../client/presence.ts';

type DeliveryState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** The message list: one `li` per seq, own messages with their delivery state. */
class MessageList {
  readonly bySeq = new Map<number, HTMLLIElement>();
  private readonly byClientId = new Map<string, HTMLLIElement>();
  private readBy = 0;
  private deliveredTo = 0;
  myId = '';

  constructor(private readonly doc: Document, private readonly list: HTMLOListElement) {}

  insert(m: Message): void {
    if (this.bySeq.has(m.seq)) return;
    const own = m.client_msg_id ? this.byClientId.get(m.client_msg_id) : undefined;
    const li = this.render(m, own);
    const after = [...this.bySeq.keys()].filter((s) => s > m.seq).sort((a, b) => a - b)[0];
    if (!own) this.list.insertBefore(li, after === undefined ? null : this.bySeq.get(after)!);
    this.refreshOwnStates();
  }

  replace(m: Message): void {
    const li = this.bySeq.get(m.seq);
    if (li) this.render(m, li);
  }

  /** A message being sent: shown at once, `sending` until its ack. */
  pending(clientMsgId: string, content: string): HTMLLIElement {
    const li = this.doc.createElement('li');
    li.dataset.mine = 'true';
    li.append(this.span('who', this.myId), this.span('text', content), this.span('state', ''));
    this.setState(li, 'sending');
    this.byClientId.set(clientMsgId, li);
    this.list.append(li);
    return li;
  }

  receipt(readSeq: number, deliveredSeq: number): void {
    this.readBy = Math.max(this.readBy, readSeq);
    this.deliveredTo = Math.max(this.deliveredTo, deliveredSeq);
    this.refreshOwnStates();
  }

  setState(li: HTMLLIElement, state: DeliveryState): void {
    li.dataset.state = state;
    li.querySelector('.state')!.textContent = state;
  }

  private span(cls: string, text: string): HTMLSpanElement {
    const span = this.doc.createElement('span');
    span.className = cls;
    span.textContent = text;
    return span;
  }

  private render(m: Message, li = this.doc.createElement('li')): HTMLLIElement {
    li.replaceChildren(this.span('who', m.sender_id), this.span('text', m.deleted_at ? '(deleted)' : m.content));
    li.dataset.seq = String(m.seq);
    li.dataset.sender = m.sender_id;
    if (m.sender_id === this.myId) {
      li.dataset.mine = 'true';
      li.append(this.span('state', ''));
      this.setState(li, 'sent');
    }
    this.bySeq.set(m.seq, li);
    if (m.client_msg_id) this.byClientId.set(m.client_msg_id, li);
    return li;
  }

  private refreshOwnStates(): void {
    for (const [seq, li] of this.bySeq) {
      if (li.dataset.mine !== 'true' || li.dataset.state === 'sending') continue;
      this.setState(li, seq <= this.readBy ? 'read' : seq <= this.deliveredTo ? 'delivered' : 'sent');
    }
  }
}

export class View {
  private readonly messages: MessageList;
  private roomPresence?: RoomPresence;
  private readonly typers = new Set<string>();

  constructor(private readonly doc: Document, theme: 'light' | 'dark') {
    doc.documentElement.dataset.theme = theme;
    this.messages = new MessageList(doc, this.el('messages'));
  }

  status(text: string): void {
    this.el('status').textContent = text;
  }

  me(userId: string): void {
    this.messages.myId = userId;
  }

  prepend(items: Message[]): void {
    items.forEach((m) => this.messages.insert(m));
  }

  noMoreHistory(): void {
    this.el<HTMLButtonElement>('older').hidden = true;
  }

  oldestSeq(): number | undefined {
    return this.messages.bySeq.size ? Math.min(...this.messages.bySeq.keys()) : undefined;
  }

  newestSeq(): number | undefined {
    return this.messages.bySeq.size ? Math.max(...this.messages.bySeq.keys()) : undefined;
  }

  presence(userId: string, status: string): void {
    this.roomPresence?.apply([userId], status === 'online');
  }

  /** Names while the room is small enough to name its members; a count once the server only counts. */
  private showPresence(p: RoomPresence): void {
    const names = [...p.online].sort().join(', ');
    const text = p.counted ? `Online: ${p.count}` : p.count ? `Online: ${names}` : '';
    this.el('presence').textContent = text;
  }

  onOlder(fn: () => void): void {
    this.el('older').addEventListener('click', fn);
  }

  /** Shows what the client receives for `roomId`, and acks/reads what is on screen. */
  bind(rt: RealtimeClient, roomId: string): void {
    rt.on('state', (s) => {
      this.el('conn').textContent = s === 'open' ? 'connected' : s;
      this.doc.body.dataset.conn = s;
    });
    rt.on('message.created', (f) => f.room_id === roomId && (this.messages.insert(f.message), this.scrollToEnd(), this.markRead(rt, roomId)));
    rt.on('sync.complete', (f) => f.room_id === roomId && this.markRead(rt, roomId));
    rt.on('message.updated', (f) => f.room_id === roomId && this.messages.replace(f.message));
    rt.on('message.deleted', (f) => f.room_id === roomId && this.messages.replace(f.message));
    rt.on('receipt', (f) => f.room_id === roomId && f.user_id !== this.messages.myId && this.messages.receipt(f.read_seq, f.delivered_seq));
    rt.on('typing', (f) => f.room_id === roomId && this.typing(f.user_id, f.state === 'started'));
    const presence = new RoomPresence(rt, roomId, () => this.showPresence(presence));
    this.roomPresence = presence;
    this.bindComposer(rt, roomId);
    this.doc.addEventListener('visibilitychange', () => this.markRead(rt, roomId));
  }

  /** Keeps the newest message in view. */
  scrollToEnd(): void {
    const log = this.el('log');
    log.scrollTop = log.scrollHeight;
  }

  private el<T extends HTMLElement = HTMLElement>(id: string): T {
    return this.doc.getElementById(id) as T;
  }

  private typing(userId: string, on: boolean): void {
    if (on) this.typers.add(userId);
    else this.typers.delete(userId);
    const names = [...this.typers].filter((u) => u !== this.messages.myId);
    this.el('typing').textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
  }

  private markRead(rt: RealtimeClient, roomId: string): void {
    const newest = this.newestSeq();
    if (newest === undefined || this.doc.visibilityState !== 'visible') return;
    rt.sendFrame({ type: 'ack', room_id: roomId, seq: newest });
    rt.sendFrame({ type: 'read', room_id: roomId, seq: newest });
  }

  private bindComposer(rt: RealtimeClient, roomId: string): void {
    const input = this.el<HTMLTextAreaElement>('compose');
    let typing = false;
    input.addEventListener('input', () => {
      const now = input.value.trim() !== '';
      if (now !== typing) rt.typing(roomId, (typing = now));
    });
    this.el<HTMLFormElement>('composer').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const content = input.value;
      if (!content.trim()) return;
      input.value = '';
      if (typing) rt.typing(roomId, (typing = false));
      this.send(rt, roomId, content);
      input.focus();
    });
  }

  /** Sends with a fresh client_msg_id; the client resends it until acked, so it is stored once. */
  private send(rt: RealtimeClient, roomId: string, content: string): void {
    const clientMsgId = crypto.randomUUID();
    const li = this.messages.pending(clientMsgId, content);
    this.scrollToEnd();
    rt.send(roomId, content, { clientMsgId }).then(
      (m) => this.messages.insert(m),
      (err: Error) => {
        this.messages.setState(li, 'failed');
        li.title = err.message;
      },
    );
  }
}
