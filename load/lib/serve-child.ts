/**
 * Child-process entry that runs one chatapi node through the real assembly (src/server.ts) and
 * reports its ports to the parent over IPC. Settings come from the environment the parent
 * passes (HTTP_PORT/WS_PORT 0, a temporary SQLite file, a generated MASTER_KEY).
 * The parent stops it with the 'stop' message (graceful close) or SIGTERM.
 */
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/server.ts';

const args = process.argv.slice(2);
const running = await start(loadConfig(process.env), {
  http: !args.includes('--ws-only'),
  ws: !args.includes('--http-only'),
});
process.send?.({ type: 'ready', httpPort: running.httpPort, wsPort: running.wsPort, pid: process.pid });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  running.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') stop(); });
process.on('SIGTERM', stop);
process.on('disconnect', stop); // parent died: do not linger
