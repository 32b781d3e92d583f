/** Delivered and read cursors: each only moves forward, so late or repeated calls are harmless. */
import { advanceCursor, findMember } from '../store/members.ts';
import { membership } from './access.ts';
import type { Ctx } from './context.ts';
import { notFound } from './errors.ts';
import type { ReadCursor } from './shapes.ts';
import type { Caller, Domain } from './types.ts';
import { checkInt, invalid } from './validate.ts';

async function moveCursors(ctx: Ctx, caller: Caller, roomId: string, seqIn: unknown, read: boolean): Promise<ReadCursor> {
  const seq = checkInt('seq', seqIn, 0);
  const { me, room } = await membership(ctx, caller, roomId);
  if (seq > room.last_seq) throw invalid('seq', `is beyond the room's last message (last_seq ${room.last_seq})`);
  const tenantId = me.tenantId;
  return ctx.change(async (trx, emit) => {
    // Reading implies delivery: raise delivered_seq to at least read_seq.
    let moved = await advanceCursor(trx, tenantId, room.id, me.user.id, 'delivered_seq', seq);
    if (read) moved += await advanceCursor(trx, tenantId, room.id, me.user.id, 'read_seq', seq);
    const member = await findMember(trx, tenantId, room.id, me.user.id);
    if (!member) throw notFound('Room'); // left the room meanwhile
    const cursor = { room_id: room.id, user_id: me.user.id, delivered_seq: member.delivered_seq, read_seq: member.read_seq };
    if (moved > 0) emit({ type: 'receipt', tenant_id: tenantId, ...cursor });
    return cursor;
  });
}

export function receiptsApi(ctx: Ctx): Domain['receipts'] {
  return {
    ack: (caller, input) => moveCursors(ctx, caller, input?.room_id, input?.seq, false),
    read: (caller, roomId, input) => moveCursors(ctx, caller, roomId, input?.seq, true),
  };
}
