/**
 * Crash durability with real processes: `chatapi serve` runs as a child; REST senders
 * (Idempotency-Key) and WebSocket senders (client_msg_id), every key unique, write to a few rooms;
 * the node is killed with SIGKILL mid-burst, restarted on the same database, every send that got
 * no answer is retried with its key, and the store must hold: every acknowledged message with its
 * seq and id, per-room seqs 1..n without gaps, and exactly one copy of every key. Several rounds.
 *
 *   CRASH_ROUNDS  rounds per backend (default 3)
 *   CRASH_SEED    replay a run (printed on failure)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { apiClient, type ApiClient } from '../helpers/client.ts';
import { serveChild, type ChildNode } from '../helpers/child-node.ts';
import { newLedger, prng, restSend, restSender, wsRetry, wsSender, type Ledger, type Send, type SenderSpec } from './senders.ts';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SENDERS = 3; // of each kind
const ROOMS = 3;

interface World { env: Record<string, string>; key: string; rooms: string[]; users: string[] }

async function setUp(node: ChildNode, env: World['env']): Promise<World> {
  const tenant = (await apiClient(node.http, { 'X-Master-Key': env.MASTER_KEY! }).POST('/v1/tenants', { body: { name: 'crash' } })).data!.data;
  const admin = apiClient(node.http, { 'X-API-Key': tenant.api_key });
  const users = Array.from({ length: SENDERS * 2 }, (_, i) => `s${i}`);
  for (const id of users) assert.equal((await admin.POST('/v1/users', { body: { id, username: id } })).response.status, 201);
  const owner = apiClient(node.http, { 'X-API-Key': tenant.api_key, 'X-User-Id': users[0]! });
  const rooms: string[] = [];
  for (let r = 0; r < ROOMS; r++) rooms.push((await owner.POST('/v1/rooms', { body: { type: 'group', name: `r${r}`, members: users.slice(1) } })).data!.data.id);
  return { env, key: tenant.api_key, rooms, users };
}

/** One round: senders write until the node is killed after `killAfter` acknowledgements. */
async function burstAndKill(node: ChildNode, w: World, round: number, random: () => number, ledger: Ledger): Promise<void> {
  const killAfter = 40 + Math.floor(random() * 200);
  const startAcks = ledger.acked.size;
  let dead = false;
  let killing = false;
  const spec = (user: string, i: number, kind: string): SenderSpec => ({
    user, headers: { 'X-API-Key': w.key, 'X-User-Id': user }, rooms: w.rooms, prefix: `r${round}-${kind}${i}`,
    random: prng(Math.floor(random() * 2 ** 31)), ledger, stopped: () => dead,
  });
  const senders = [
    ...w.users.slice(0, SENDERS).map((u, i) => restSender(node.http, spec(u, i, 'rest'))),
    ...w.users.slice(SENDERS).map((u, i) => wsSender(node.ws, spec(u, i, 'ws'))),
  ];
  const killer = (async () => {
    // Event-driven: poll the ledger on each turn of the loop, no fixed sleep.
    while (ledger.acked.size - startAcks < killAfter) await new Promise((r) => setTimeout(r, 5));
    killing = true;
    await node.kill9();
    dead = true;
  })();
  await Promise.race([killer, Promise.all(senders).then(() => { if (!killing) throw new Error(`senders stopped before the kill: ${ledger.stops.slice(-6).join('; ')}`); })]);
  await Promise.all(senders);
}

/** Retries every unanswered send with its key, on its own channel; each must be answered now. */
async function retryUnanswered(node: ChildNode, w: World, ledger: Ledger): Promise<Send[]> {
  const retried = [...ledger.unanswered.values()];
  for (const send of retried.filter((s) => s.via === 'rest')) {
    const ack = await restSend(apiClient(node.http, { 'X-API-Key': w.key, 'X-User-Id': send.user }), send);
    assert.ok(ack, `REST retry of ${send.key} was not accepted`);
    ledger.acked.set(send.key, { ...send, ...ack });
  }
  const byUser = new Map<string, Send[]>();
  for (const send of retried.filter((s) => s.via === 'ws')) byUser.set(send.user, [...(byUser.get(send.user) ?? []), send]);
  for (const [user, sends] of byUser) {
    const acks = await wsRetry(node.ws, { 'X-API-Key': w.key, 'X-User-Id': user }, sends);
    for (const send of sends) {
      assert.ok(acks.has(send.key), `WebSocket retry of ${send.key} was not acknowledged`);
      ledger.acked.set(send.key, { ...send, ...acks.get(send.key)! });
    }
  }
  ledger.unanswered.clear();
  return retried;
}

async function roomMessages(client: ApiClient, roomId: string): Promise<{ seq: number; id: string; client_msg_id: string | null }[]> {
  const out: { seq: number; id: string; client_msg_id: string | null }[] = [];
  for (;;) {
    const page = await client.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId }, query: { after_seq: out.at(-1)?.seq ?? 0, limit: 200 } } });
    assert.equal(page.response.status, 200);
    out.push(...page.data!.data.items);
    if (page.data!.data.items.length < 200) return out;
  }
}

/** Every acknowledged key is stored once, with its seq and id; every room's seqs are 1..n. */
async function verify(node: ChildNode, w: World, ledger: Ledger): Promise<{ found: number; lost: string[] }> {
  const reader = apiClient(node.http, { 'X-API-Key': w.key, 'X-User-Id': w.users[0]! });
  const stored = new Map<string, { seq: number; id: string; roomId: string }>();
  for (const roomId of w.rooms) {
    const messages = await roomMessages(reader, roomId);
    assert.deepEqual(messages.map((m) => m.seq), Array.from({ length: messages.length }, (_, i) => i + 1), `room ${roomId}: seqs have gaps`);
    for (const m of messages) {
      assert.ok(m.client_msg_id, `message ${m.id} has no key`);
      assert.ok(!stored.has(m.client_msg_id), `key ${m.client_msg_id} stored twice`);
      stored.set(m.client_msg_id, { seq: m.seq, id: m.id, roomId });
    }
  }
  const lost: string[] = [];
  let found = 0;
  for (const [key, ack] of ledger.acked) {
    const got = stored.get(key);
    if (!got) { lost.push(key); continue; }
    assert.deepEqual(got, { seq: ack.seq, id: ack.id, roomId: ack.roomId }, `key ${key}: stored differently from its acknowledgement`);
    found++;
  }
  assert.equal(stored.size, ledger.acked.size, 'every stored message was acknowledged (on the first try or its retry)');
  return { found, lost };
}

for (const backend of backends()) {
  describe(`crash durability [${backend.name}]`, () => {
    test(`${ROUNDS} rounds of kill -9 mid-burst: nothing acknowledged lost, seqs gap-free, retries make one copy`, { timeout: 300_000 }, async (t) => {
      const random = prng(SEED + (backend.name === 'mysql' ? 1 : 0));
      const db = await backend.url();
      const env = { DATABASE_URL: db.url, MASTER_KEY: 'mk_' + randomBytes(16).toString('hex') };
      let node = await serveChild(env);
      t.after(async () => { await node.kill9(); await db.drop(); });
      const w = await setUp(node, env);
      const ledger = newLedger();
      let retried = 0;
      let storedBeforeCrash = 0;
      try {
        for (let round = 0; round < ROUNDS; round++) {
          await burstAndKill(node, w, round, random, ledger);
          node = await serveChild(env);
          const again = await retryUnanswered(node, w, ledger);
          retried += again.length;
          storedBeforeCrash += again.filter((x) => ledger.acked.get(x.key)!.created === false).length;
          const { lost } = await verify(node, w, ledger);
          assert.deepEqual(lost, [], `round ${round}: acknowledged messages missing after the restart`);
        }
        const { found, lost } = await verify(node, w, ledger);
        console.log(`crash durability [${backend.name}]: ${ROUNDS} rounds of kill -9, ${ledger.acked.size} messages acknowledged, ${found} found, ${lost.length} lost; `
          + `${retried} unanswered sends retried (${storedBeforeCrash} had been stored before the kill, answered with the original) → exactly one copy each; seed ${SEED}`);
      } catch (err) {
        (err as Error).message += `\n(crash seed ${SEED}: rerun with CRASH_SEED=${SEED})\nnode output:\n${node.output().slice(-2000)}`;
        throw err;
      }
      await node.stop();
    });
  });
}
