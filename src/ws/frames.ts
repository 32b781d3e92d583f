/**
 * The wire: every incoming frame is parsed and validated with the Ajv validators generated from
 * spec/schemas/frames (generated/validators.cjs, `make generate`); every outgoing frame is one
 * JSON text built once. Frame types come from generated/frames.d.ts; nothing here re-declares them.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ClientFrame, ErrorFrame, ServerFrame } from '../../generated/frames.d.ts';
import type { Message } from '../domain/wire.ts';

export type * from '../../generated/frames.d.ts';

type Validators = typeof import('../../generated/validators.cjs');
const validators = createRequire(import.meta.url)('../../generated/validators.cjs') as Validators;

/** One validator per client frame type, each generated from its own schema (precise errors). */
const BY_TYPE: Record<ClientFrame['type'], ValidateFunction> = {
  auth: validators.AuthFrame,
  'message.send': validators.MessageSendFrame,
  ack: validators.AckFrame,
  read: validators.ReadFrame,
  'typing.start': validators.TypingStartFrame,
  'typing.stop': validators.TypingStopFrame,
  resume: validators.ResumeFrame,
  ping: validators.PingFrame,
};

for (const [type, fn] of Object.entries(BY_TYPE)) {
  if (typeof fn !== 'function') throw new Error(`generated/validators.cjs has no validator for frame "${type}"; run make generate`);
}

/** The parts of an `error` frame that say why a frame was refused. */
export type FrameProblem = Omit<ErrorFrame, 'type'>;

export type Parsed = { ok: true; frame: ClientFrame } | { ok: false; problem: FrameProblem };

/** What an `error` frame refusing a message.send echoes of it: its type, its client_msg_id and its ref. */
export function sendEcho(frame: Extract<ClientFrame, { type: 'message.send' }>): Partial<FrameProblem> {
  return { frame: frame.type, client_msg_id: frame.client_msg_id, ...(frame.ref ? { ref: frame.ref } : {}) };
}

const invalid = (message: string, extra: Partial<FrameProblem> = {}): Parsed => ({
  ok: false,
  problem: { code: 'VALIDATION_ERROR', message, ...extra },
});

/** Where an Ajv error points, as the `field` of a detail (`content`, `rooms[0].last_seq`). */
function fieldOf(err: ErrorObject): string {
  const path = err.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  const extra = err.params as { missingProperty?: string; additionalProperty?: string };
  const leaf = extra.missingProperty ?? extra.additionalProperty;
  return leaf ? (path ? `${path}.${leaf}` : leaf) : path || '(frame)';
}

function describe(errors: ErrorObject[]): { message: string; details: { field: string; message: string }[] } {
  // oneOf/const noise (e.g. meta: object|null) adds nothing a client can act on beyond the first.
  const useful = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const details = (useful.length ? useful : errors).slice(0, 20).map((e) => ({
    field: fieldOf(e),
    message: e.keyword === 'additionalProperties' ? 'is not allowed' : (e.message ?? 'is invalid'),
  }));
  return { message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details };
}

/** Parse and validate one text frame. Never throws. */
export function parseClientFrame(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('Frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
    return invalid('A frame must be a JSON object with a string "type"');
  }
  const raw = value as Record<string, unknown>;
  const type = raw.type as string;
  const validate = Object.hasOwn(BY_TYPE, type) ? BY_TYPE[type as ClientFrame['type']] : undefined;
  if (!validate) return invalid(`Unknown frame type "${type.slice(0, 64)}"`, echoOfInvalid(raw, type));
  if (!validate(raw)) {
    const { message, details } = describe(validate.errors ?? []);
    return invalid(message, { ...echoOfInvalid(raw, type), details });
  }
  return { ok: true, frame: raw as unknown as ClientFrame };
}

/** What an error frame names of a frame it refuses: only what is valid against the error frame's own schema (an invalid key stays unnamed). */
function echoOfInvalid(raw: Record<string, unknown>, type: string): Partial<FrameProblem> {
  const echo: Partial<FrameProblem> = { frame: type.slice(0, 64) };
  if (validators.FrameRef(raw.ref)) echo.ref = raw.ref as string;
  if (type === 'message.send' && validators.ClientMsgId(raw.client_msg_id)) echo.client_msg_id = raw.client_msg_id as string;
  return echo;
}

/** Serialize a server frame once; the bytes go to uWS send/publish as they are. */
export function encode(frame: ServerFrame): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

/**
 * A message's JSON, once per message object: a new message's `message.ack` and its
 * `message.created` carry the same object (the domain answers a send and announces it; the bus
 * delivers the very object in a microtask of the same loop turn), so the second frame reuses the
 * first one's text instead of serializing the message again. Kept for the loop turn only, in a
 * Map emptied at its end: a WeakMap of every message cost an ephemeron table that grew and was
 * rehashed until the next garbage collection (about 0.4 µs per message at 500 × 10 saturated).
 * Messages are never changed once made (an edit makes a new object).
 */
const messageTexts = new Map<Message, string>();
let textsKept = false;
function messageJson(message: Message): string {
  let text = messageTexts.get(message);
  if (text === undefined) {
    messageTexts.set(message, (text = JSON.stringify(message)));
    if (!textsKept) {
      textsKept = true;
      setImmediate(forgetTexts);
    }
  }
  return text;
}
function forgetTexts(): void {
  textsKept = false;
  messageTexts.clear();
}

/** encode() of `{ type: 'message.ack', client_msg_id, created, message, ref }`, the message's text reused. */
export function encodeAck(clientMsgId: string, created: boolean, message: Message, ref: string | undefined): Buffer {
  const tail = ref ? `,"ref":${JSON.stringify(ref)}}` : '}';
  return Buffer.from(`{"type":"message.ack","client_msg_id":${JSON.stringify(clientMsgId)},"created":${created},"message":${messageJson(message)}${tail}`);
}

/** encode() of `{ type, room_id, message }` for a message event, the message's text reused. */
export function encodeMessageEvent(type: 'message.created' | 'message.updated' | 'message.deleted', roomId: string, message: Message): Buffer {
  return Buffer.from(`{"type":"${type}","room_id":${JSON.stringify(roomId)},"message":${messageJson(message)}}`);
}
