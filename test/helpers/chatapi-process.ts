/** `chatapi serve` as a real child process on free ports (for crash tests: SIGKILL it, start another). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ServedProcess {
  child: ChildProcess;
  http: string;
  ws: string;
  /** SIGKILL (a crash: no cleanup at all) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function serveProcess(env: Record<string, string>): Promise<ServedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: {
      ...process.env, HTTP_PORT: '0', WS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', REDIS_URL: '',
      RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const ports = await new Promise<{ http: string; ws: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`chatapi serve exited early (${code}): ${out}`)));
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const http = /REST +http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      const ws = /WebSocket +ws:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      if (http && ws) resolve({ http, ws });
    });
  });
  child.removeAllListeners('exit');
  const alive = () => child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    child, http: `http://127.0.0.1:${ports.http}`, ws: `ws://127.0.0.1:${ports.ws}/v1/ws`,
    kill: () => end('SIGKILL'), stop: () => end('SIGTERM'),
  };
}
