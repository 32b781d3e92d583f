/**
 * What building a stored message's row costs (issue 12, eighteenth round): `messageRow`
 * (src/store/append-types.ts, the fields written out) against `{ ...msg, seq, created_at }`, the
 * spread it replaced on the send path. In Node 20's V8, properties added after a spread send every
 * copy through the runtime; run this again on a new Node to see whether that still holds.
 *
 *   node --import tsx load/bench/row-build.ts [--n 1000000]
 */
import { parseArgs } from 'node:util';
import { messageRow, type MessageToAppend, type NewMessageRow } from '../../src/store/append-types.ts';
import { uuidv7 } from '../../src/store/ordered-id.ts';

const { values: a } = parseArgs({ options: { n: { type: 'string', default: '1000000' } } });
const n = Number(a.n);
const msgs: MessageToAppend[] = Array.from({ length: 256 }, (_, i) => ({
  id: uuidv7(), tenant_id: 'tenant-1', room_id: `room-${i}`, sender_id: `user-${i}`, content: `~B0:${i};12345.678~`, meta: null,
  client_msg_id: `key-${i}`, body_hash: 'f'.repeat(64), edited_at: null, deleted_at: null,
}));
const kept: NewMessageRow[] = new Array(4096);
const ways: Record<string, (m: MessageToAppend, seq: number, at: number) => NewMessageRow> = {
  messageRow,
  spread: (m, seq, at) => ({ ...m, seq, created_at: at }),
};
for (let round = 0; round < 2; round++) {
  for (const [name, build] of Object.entries(ways)) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) kept[i & 4095] = build(msgs[i & 255]!, i, 1_796_197_464_808 + i);
    const ns = Number(process.hrtime.bigint() - t) / n;
    if (round === 1) console.log(`${name.padEnd(10)} ${ns.toFixed(1).padStart(8)} ns per row`);
  }
}
