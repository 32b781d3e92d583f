/**
 * A real `chatapi serve` child process on free ports, for tests that kill it (-9), restart it on
 * the same database, or measure its memory from outside (/proc). Waits for the start banner.
 *
 *   const node = await serveChild({ DATABASE_URL: url, MASTER_KEY: key });
 *   node.kill9(); const again = await serveChild(sameEnv);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

export interface ChildNode {
  child: ChildProcess;
  pid: number;
  http: string;
  ws: string;
  /** What the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGKILL: a crash, nothing flushed, no goodbye. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for exit (then SIGKILL after 15 s). */
  stop(): Promise<void>;
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

export async function serveChild(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: {
      ...process.env, HTTP_PORT: '0', WS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', REDIS_URL: '',
      RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-20_000)));
  const ports = await new Promise<{ http: string; ws: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`chatapi serve not ready in ${timeoutMs} ms: ${out}`)); }, timeoutMs);
    const onExit = (code: number | null) => { clearTimeout(timer); reject(new Error(`chatapi serve exited early (${code}): ${out}`)); };
    child.once('exit', onExit);
    const onData = () => {
      const http = /REST +http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      const ws = /WebSocket +ws:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      if (http && ws) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', onData);
        resolve({ http, ws });
      }
    };
    child.stdout!.on('data', onData);
  });
  return {
    child,
    pid: child.pid!,
    http: `http://127.0.0.1:${ports.http}`,
    ws: `ws://127.0.0.1:${ports.ws}/v1/ws`,
    output: () => out,
    async kill9() {
      if (exited(child)) return;
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    },
    async stop() {
      if (exited(child)) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Resident memory of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function rssPeak(pid: number, everyMs = 20): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => { try { peak = Math.max(peak, rssOf(pid)); } catch { /* exited */ } }, everyMs);
  return { stop: () => { clearInterval(timer); return peak; } };
}
