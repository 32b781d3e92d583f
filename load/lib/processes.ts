/**
 * Starts servers in child processes (each benchmark subject and each chatapi node gets its own
 * process, so its CPU and memory can be measured and it never shares an event loop with the
 * driver). Children report readiness over IPC; every wait is bounded.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  pid: number;
  httpPort: number;
  wsPort: number;
  /** extra fields the child reported */
  info: Record<string, unknown>;
  child: ChildProcess;
  /**
   * With CHATAPI_HEAP_SAMPLE set: starts (true) or stops (false) the child's allocation profile
   * (heap-sample.cjs); stopping resolves with its file and the bytes allocated meanwhile.
   */
  heapSample?(on: boolean): Promise<{ file: string; bytes: number } | undefined>;
  stop(): Promise<void>;
}

export async function startChild(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ChildServer> {
  // CHATAPI_CPU_PROF=<dir>: every server child writes a V8 CPU profile there when it stops;
  // CHATAPI_HEAP_SAMPLE=<dir>: every server child can take an allocation profile (heap-sample.cjs);
  // BENCH_NODE_FLAGS="--max-semi-space-size=64 …": Node/V8 flags for the server children only
  const profile = process.env.CHATAPI_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CHATAPI_CPU_PROF}`] : [];
  const heapSample = process.env.CHATAPI_HEAP_SAMPLE;
  const child = fork(script, args, {
    env: heapSample ? { ...env, CHATAPI_HEAP_SAMPLE: heapSample } : env,
    execArgv: [
      '--import', 'tsx', ...profile, ...(heapSample ? ['--require', fileURLToPath(new URL('./heap-sample.cjs', import.meta.url))] : []),
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} not ready in ${timeoutMs} ms`)); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited early (code ${code})`)); });
    child.on('message', (m: Record<string, unknown>) => {
      if (m?.type === 'ready') { clearTimeout(timer); child.removeAllListeners('exit'); resolve(m); }
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    httpPort: Number(info.httpPort ?? 0),
    wsPort: Number(info.wsPort ?? info.port ?? 0),
    info,
    child,
    async heapSample(on: boolean): Promise<{ file: string; bytes: number } | undefined> {
      if (!heapSample || !child.connected) return undefined;
      child.send({ type: 'heap-sample', on });
      if (on) return undefined;
      return new Promise((resolve) => {
        const timer = setTimeout(() => { child.off('message', written); resolve(undefined); }, 30_000);
        const written = (m: { type?: string; file?: string; bytes?: number; error?: string }) => {
          if (m?.type !== 'heap-sample-written') return;
          clearTimeout(timer);
          child.off('message', written);
          if (m.error) console.error(`heap-sample: ${m.error}`);
          resolve(m.error ? undefined : { file: m.file!, bytes: m.bytes! });
        };
        child.on('message', written);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' }); else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ChatapiCluster {
  nodes: ChildServer[];
  masterKey: string;
  databaseFile: string;
  /** stops the nodes; deletes the database unless `keepDatabase` */
  stop(opts?: { keepDatabase?: boolean }): Promise<void>;
}

const SERVE_CHILD = fileURLToPath(new URL('./serve-child.ts', import.meta.url));

export interface StartChatapiOptions {
  nodes?: number;
  redisUrl?: string;
  env?: Record<string, string>;
  args?: string[];
  /** reuse a database (and its master key) kept by an earlier `stop({ keepDatabase: true })` */
  reuse?: { databaseFile: string; masterKey: string };
}

/**
 * Starts `nodes` chatapi processes on port 0 sharing one fresh SQLite file (and Redis, with
 * a fresh key prefix, when redisUrl is given: required for more than one node).
 */
export async function startChatapi(opts: StartChatapiOptions = {}): Promise<ChatapiCluster> {
  const count = opts.nodes ?? 1;
  if (count > 1 && !opts.redisUrl) throw new Error('more than one chatapi node needs REDIS_URL');
  const masterKey = opts.reuse?.masterKey ?? randomBytes(24).toString('base64url');
  const databaseFile = opts.reuse?.databaseFile ?? join(tmpdir(), `chatapi-load-${randomUUID()}.db`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HTTP_PORT: '0', WS_PORT: '0', HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${databaseFile}`,
    MASTER_KEY: masterKey,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    REDIS_PREFIX: `chatapi-load-${randomUUID()}:`,
    ...opts.env,
  };
  if (opts.redisUrl) env.REDIS_URL = opts.redisUrl; else delete env.REDIS_URL;
  const nodes: ChildServer[] = [];
  const stop = async (o: { keepDatabase?: boolean } = {}) => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (!o.keepDatabase) for (const suffix of ['', '-wal', '-shm']) rmSync(databaseFile + suffix, { force: true });
  };
  try {
    // one at a time: the first applies migrations
    for (let i = 0; i < count; i++) nodes.push(await startChild(SERVE_CHILD, opts.args ?? [], env));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, masterKey, databaseFile, stop };
}

/**
 * One thread's scheduler times (/proc/<pid>/task/<tid>/schedstat): time on a core and time runnable
 * but waiting for one, in ms. The main thread's tid is the pid. A V8 profile counts native work
 * outside JavaScript (uWS's socket reads and writes, epoll) as "(idle)"; this says whether the
 * thread was really off a core.
 */
export function threadSched(pid: number, tid = pid): { runMs: number; waitMs: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
  return { runMs: run! / 1e6, waitMs: wait! / 1e6 };
}

/** CPU time (user+system, ms) and RSS (bytes) of a process, from /proc (Linux). */
export function procStat(pid: number): { cpuMs: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs, rssBytes: rssKb * 1024 };
}
