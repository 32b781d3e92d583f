// The README's walkthrough runs as written: the curl steps (against a test server) export TOKEN and
// ROOM, and the WebSocket snippet (ws.mjs) then connects, sends, prints each frame and the close
// code and reason, and exits; with a bad token it prints 4003 and exits non-zero.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The text between `start` and the next line that is exactly `end`. */
function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  assert.ok(from >= 0, `README has ${start}`);
  const body = text.slice(from + start.length);
  return body.slice(0, body.indexOf(`\n${end}\n`) + 1);
}

describe('README', () => {
  let server: TestServer;
  // In the repo, so `import WebSocket from 'ws'` resolves as after `npm install ws` in a fresh folder.
  const dir = path.join(ROOT, 'test-results', `readme-${randomBytes(4).toString('hex')}`);
  let walkthrough = '';

  before(async () => {
    server = await startTestServer(backends()[0]!);
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'ws.mjs'), between(readme, "cat > ws.mjs <<'EOF'\n", 'EOF'));
    walkthrough = between(readme, '## A first conversation with curl', '```').split('```sh\n')[1]!;
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the curl walkthrough exports TOKEN and ROOM, and ws.mjs sends over them and exits cleanly', async () => {
    // The walkthrough's first two lines point at `make run`; here they point at the test server.
    const script = walkthrough
      .replace('MASTER_KEY=$(cat data/master.key)', `MASTER_KEY=${server.masterKey}`)
      .replace('API=http://localhost:8080', `API=${server.baseUrl}`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', `${script}\nnode ws.mjs`], {
      cwd: dir, env: { ...process.env, WS_URL: server.wsUrl },
    });
    assert.match(stdout, /<- \{"type":"connected"/);
    assert.match(stdout, /<- \{"type":"message\.ack","client_msg_id":"ws-1","created":true/);
    assert.match(stdout, /^closed 1000 done$/m);
  });

  test('with a bad token ws.mjs prints the close code and reason and exits non-zero', async () => {
    const res = await run(process.execPath, ['ws.mjs'], { cwd: dir, env: { ...process.env, TOKEN: 'nope', ROOM: 'r', WS_URL: server.wsUrl } }).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    assert.equal(res.code, 1);
    assert.match(res.stdout, /^closed 4003 \S.*$/m);
  });
});
