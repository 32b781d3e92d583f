/**
 * Every setting, read from the environment once at start and validated; a bad value stops the
 * process with a message naming the variable. Defaults suit a local single node on SQLite.
 */
export interface Config {
  /** HTTP_PORT: REST, docs and specs. 0 picks a free port. */
  httpPort: number;
  /** WS_PORT: the uWebSockets.js node (`/v1/ws`). 0 picks a free port. */
  wsPort: number;
  /** HOST: interface both servers bind to. */
  host: string;
  /** DATABASE_URL: `sqlite:<file>` (embedded default) or `mysql://user:password@host:port/database`. */
  databaseUrl: string;
  /**
   * SQLITE_SYNCHRONOUS: `FULL` (default) syncs the WAL at every COMMIT, so an acknowledged send
   * survives a power loss or OS crash. `NORMAL` syncs only at checkpoints: a process crash still
   * loses nothing, but a power loss or kernel crash may lose the last sends acknowledged before it
   * (the database itself stays consistent). Ignored for MySQL, where the server's
   * innodb_flush_log_at_trx_commit decides (1 for the same promise as FULL).
   */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** MASTER_KEY: operator key for /v1/tenants. Unset: generated and printed on first start. */
  masterKey?: string;
  /** REDIS_URL: unset runs a single node; set, nodes share events, presence, tickets and rate limits. */
  redisUrl?: string;
  /** REDIS_PREFIX: namespace for every Redis key and channel. */
  redisPrefix: string;
  /** JWT_ISSUER: `iss` of user tokens; tokens from another issuer are refused. */
  jwtIssuer: string;
  /** BODY_LIMIT_BYTES: largest accepted JSON body (413 above). */
  bodyLimitBytes: number;
  /** LOG_LEVEL: pino level (fatal, error, warn, info, debug, trace, silent). */
  logLevel: string;
  /** PRESENCE_GRACE_MS: how long after the last connection closes a user is announced offline. */
  presenceGraceMs: number;
  /**
   * PRESENCE_COALESCE_MS, PRESENCE_BATCH_ABOVE, PRESENCE_SUMMARY_ABOVE: where more than
   * PRESENCE_BATCH_ABOVE connections on a node have a room, its presence changes are coalesced
   * over PRESENCE_COALESCE_MS into one `presence.batch` frame naming them; above
   * PRESENCE_SUMMARY_ABOVE into one `presence.summary` with counts only (see spec/asyncapi.yaml).
   */
  presenceCoalesceMs: number;
  presenceBatchAbove: number;
  presenceSummaryAbove: number;
  /** TYPING_TTL_MS: a typing indicator expires this long after its last refresh. */
  typingTtlMs: number;
  /** WS_AUTH_TIMEOUT_MS: time allowed for the first `auth` frame when the upgrade carried no credentials. */
  wsAuthTimeoutMs: number;
  /** WS_MAX_PAYLOAD_BYTES: largest incoming frame; larger closes the socket with 1009. */
  wsMaxPayloadBytes: number;
  /** WS_MAX_BACKPRESSURE_BYTES: send buffer above which a slow consumer is disconnected (to resume). */
  wsMaxBackpressureBytes: number;
  /**
   * WS_MAX_PENDING_FRAMES / WS_MAX_PENDING_BYTES: most frames (and characters) of one connection
   * waiting to be handled. A frame beyond either is answered at once with RATE_LIMIT_EXCEEDED and
   * dropped, so a flood from one socket cannot grow the node's memory without bound.
   */
  wsMaxPendingFrames: number;
  wsMaxPendingBytes: number;
  /**
   * WS_SEND_ADMISSION: most WebSocket sends the node has handed to the durable send path and not
   * yet answered. Beyond it a connection's sends wait, first come first served, as the frames they
   * arrived as (ws/send-admission.ts): what waits for a batch survives garbage collections, and a
   * waiting frame costs far less than a submitted send. The default is two batches (the one
   * committing and a full one behind it), so the writer never waits.
   */
  wsSendAdmission: number;
  /** WS_REPLAY_LIMIT: most messages replayed per room on resume; beyond it the client is told to fetch over REST. */
  replayLimit: number;
  /** RATE_LIMIT_PER_SECOND: default sustained rate of a tenant's token bucket. */
  rateLimitPerSecond: number;
  /** RATE_LIMIT_BURST: default bucket size. */
  rateLimitBurst: number;
  /**
   * AUTH_CACHE_MS: how long resolved credentials are remembered. Changes made through this node
   * apply at once; other nodes see a rotated key, revoked token or changed role within this time.
   * 0 turns the cache off.
   */
  authCacheMs: number;
  /** SHUTDOWN_TIMEOUT_MS: longest a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /**
   * ARGON2_MEMORY_KIB / ARGON2_TIME_COST / ARGON2_PARALLELISM: argon2id cost of password hashes.
   * Defaults are OWASP's Password Storage recommendation (19 MiB, 2 passes, 1 lane); lower them
   * only for test suites.
   */
  argon2MemoryKib: number;
  argon2TimeCost: number;
  argon2Parallelism: number;
  /** LOGIN_FAILURES_PER_USER: failed logins per (tenant, username) within AUTH_FAILURE_WINDOW_SECONDS before 429. */
  loginFailuresPerUser: number;
  /** AUTH_FAILURES_PER_IP: failed credential attempts (logins, codes, invite passwords, keys, tokens) per client IP per window. */
  authFailuresPerIp: number;
  /** AUTH_FAILURE_WINDOW_SECONDS: the window both failure limits count in. */
  authFailureWindowSeconds: number;
  /** SIGNUPS_PER_IP_PER_HOUR: registrations and guest logins per client IP per hour. */
  signupsPerIpPerHour: number;
  /** GUEST_PURGE_INTERVAL_MS: how often expired guests are deleted (with their tokens and sessions). */
  guestPurgeIntervalMs: number;
  /**
   * SMTP_URL: where emailed room codes go (nodemailer), e.g. smtp://user:pass@mail.example:587.
   * Unset: codes are written to the log with a loud warning (local runs only).
   */
  smtpUrl?: string;
  /** MAIL_FROM: the From address of emailed codes. */
  mailFrom: string;
  /**
   * WEBHOOK_ALLOW_PRIVATE: `true` lets webhook URLs resolve to loopback, link-local and private
   * addresses (local runs, tests). Off by default: those are the first target of request forgery.
   */
  webhookAllowPrivate: boolean;
  /** WEBHOOK_TIMEOUT_MS: an attempt without a complete answer by then fails (and is retried). */
  webhookTimeoutMs: number;
  /** WEBHOOK_LEASE_MS: how long a claimed delivery stays with its worker; if the worker dies it is retried after this. */
  webhookLeaseMs: number;
  /** WEBHOOK_POLL_MS: how often a worker looks for due deliveries when nothing woke it. */
  webhookPollMs: number;
  /** WEBHOOK_CONCURRENCY: most attempts one process has in flight (each of a distinct endpoint+room). */
  webhookConcurrency: number;
  /** OUTBOX_WORKER: `false` stops this process from delivering webhooks (another one does). */
  outboxWorker: boolean;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function str(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function databaseUrl(env: Env): string {
  const url = str(env, 'DATABASE_URL', 'sqlite:./data/chatapi.db');
  if (!/^sqlite:.+/.test(url) && !/^mysql:\/\/.+/.test(url)) {
    throw new ConfigError(`DATABASE_URL must be sqlite:<file path> or mysql://user:password@host:port/database, got "${url}"`);
  }
  return url;
}

function smtpUrl(env: Env): string | undefined {
  const url = optional(env, 'SMTP_URL');
  if (url !== undefined && !/^smtps?:\/\/.+/.test(url)) throw new ConfigError(`SMTP_URL must start with smtp:// or smtps://, got "${url}"`);
  return url;
}

function synchronous(env: Env): 'FULL' | 'NORMAL' {
  const raw = str(env, 'SQLITE_SYNCHRONOUS', 'FULL').toUpperCase();
  if (raw !== 'FULL' && raw !== 'NORMAL') throw new ConfigError(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${raw}"`);
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const masterKey = optional(env, 'MASTER_KEY');
  if (masterKey !== undefined && masterKey.length < 16) throw new ConfigError('MASTER_KEY must be at least 16 characters');
  const redisUrl = optional(env, 'REDIS_URL');
  const webhookTimeoutMs = int(env, 'WEBHOOK_TIMEOUT_MS', 10000, 100, 60000);
  const webhookLeaseMs = int(env, 'WEBHOOK_LEASE_MS', 60000, 1000, 3600000);
  if (webhookLeaseMs <= webhookTimeoutMs) throw new ConfigError('WEBHOOK_LEASE_MS must be longer than WEBHOOK_TIMEOUT_MS');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  return {
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    wsPort: int(env, 'WS_PORT', 8081, 0, 65535),
    host: str(env, 'HOST', '0.0.0.0'),
    databaseUrl: databaseUrl(env),
    sqliteSynchronous: synchronous(env),
    masterKey,
    redisUrl,
    redisPrefix: str(env, 'REDIS_PREFIX', 'chatapi:'),
    jwtIssuer: str(env, 'JWT_ISSUER', 'chatapi'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 65536, 1024, 16 * 1024 * 1024),
    logLevel,
    presenceGraceMs: int(env, 'PRESENCE_GRACE_MS', 5000, 0, 600000),
    presenceCoalesceMs: int(env, 'PRESENCE_COALESCE_MS', 250, 10, 60000),
    presenceBatchAbove: int(env, 'PRESENCE_BATCH_ABOVE', 32, 0, 1_000_000),
    presenceSummaryAbove: int(env, 'PRESENCE_SUMMARY_ABOVE', 1000, 0, 1_000_000),
    typingTtlMs: int(env, 'TYPING_TTL_MS', 5000, 100, 600000),
    wsAuthTimeoutMs: int(env, 'WS_AUTH_TIMEOUT_MS', 5000, 100, 600000),
    wsMaxPayloadBytes: int(env, 'WS_MAX_PAYLOAD_BYTES', 65536, 1024, 16 * 1024 * 1024),
    wsMaxBackpressureBytes: int(env, 'WS_MAX_BACKPRESSURE_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    wsMaxPendingFrames: int(env, 'WS_MAX_PENDING_FRAMES', 4096, 1, 1_000_000),
    wsMaxPendingBytes: int(env, 'WS_MAX_PENDING_BYTES', 32 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    wsSendAdmission: int(env, 'WS_SEND_ADMISSION', 512, 1, 1_000_000),
    replayLimit: int(env, 'WS_REPLAY_LIMIT', 1000, 1, 100000),
    rateLimitPerSecond: int(env, 'RATE_LIMIT_PER_SECOND', 100, 1, 100000),
    rateLimitBurst: int(env, 'RATE_LIMIT_BURST', 100, 1, 100000),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 100, 600000),
    authCacheMs: int(env, 'AUTH_CACHE_MS', 2000, 0, 60000),
    argon2MemoryKib: int(env, 'ARGON2_MEMORY_KIB', 19456, 64, 4 * 1024 * 1024),
    argon2TimeCost: int(env, 'ARGON2_TIME_COST', 2, 1, 100),
    argon2Parallelism: int(env, 'ARGON2_PARALLELISM', 1, 1, 16),
    loginFailuresPerUser: int(env, 'LOGIN_FAILURES_PER_USER', 5, 1, 100000),
    authFailuresPerIp: int(env, 'AUTH_FAILURES_PER_IP', 100, 1, 1000000),
    authFailureWindowSeconds: int(env, 'AUTH_FAILURE_WINDOW_SECONDS', 900, 1, 86400),
    signupsPerIpPerHour: int(env, 'SIGNUPS_PER_IP_PER_HOUR', 100, 1, 1000000),
    guestPurgeIntervalMs: int(env, 'GUEST_PURGE_INTERVAL_MS', 60000, 100, 86400000),
    smtpUrl: smtpUrl(env),
    mailFrom: str(env, 'MAIL_FROM', 'chatapi <no-reply@localhost>'),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookTimeoutMs,
    webhookLeaseMs,
    webhookPollMs: int(env, 'WEBHOOK_POLL_MS', 250, 10, 60000),
    webhookConcurrency: int(env, 'WEBHOOK_CONCURRENCY', 64, 1, 1024),
    outboxWorker: bool(env, 'OUTBOX_WORKER', true),
  };
}
