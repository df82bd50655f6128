import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ServiceProcess } from './support/service-process.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/**
 * The README's command blocks that talk to the service: the ```sh blocks that use `$API`. They
 * run in order, verbatim, in one bash, as a newcomer pastes them; each `curl` in them is
 * followed by a `# -> <status>` line saying what it answers.
 */
export function readmeCommands(readme: string): { script: string; expected: number[]; curls: number } {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('$API'));
  const script = blocks.join('\n');
  const expected = [...script.matchAll(/^# -> (\d{3})\b/gm)].map((m) => Number(m[1]));
  const curls = script.split('\n').filter((line) => /(^|[\s($])curl\s/.test(line) && !line.trimStart().startsWith('#')).length;
  return { script, expected, curls };
}

describe('the README', () => {
  const services: ServiceProcess[] = [];
  after(async () => {
    for (const s of services) await s.stop('SIGTERM');
  });

  it('annotates every curl of its command blocks with the status it answers', () => {
    const { expected, curls } = readmeCommands(README);
    assert.ok(curls >= 10, `the walk-through has its curls (${curls})`);
    assert.equal(expected.length, curls, 'one "# -> <status>" line per curl');
  });

  it('runs its command blocks verbatim in a fresh shell against a fresh service, with the statuses it shows', async () => {
    // As a newcomer: the service started in a directory of its own, with nothing set (it
    // generates its root key into ./data), and the blocks pasted into bash in that directory.
    const dir = mkdtempSync(join(tmpdir(), 'readme-'));
    const service = new ServiceProcess({}, { cwd: dir, unset: ['DATA_DIR', 'ROOT_API_KEY'] });
    services.push(service);
    await service.start();
    const { script, expected } = readmeCommands(README);
    const statuses = join(dir, 'statuses');
    // Every curl also writes its status to a file (on stderr, so $(curl …) captures only the body).
    const prelude = [
      'set -euo pipefail',
      `curl() { command curl -w '%{stderr}HTTP %{http_code}\\n' "$@" 2>>${JSON.stringify(statuses)}; }`,
    ].join('\n');
    const run = spawnSync('bash', ['-c', `${prelude}\n${script}`], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, API: service.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `the blocks ran to the end:\n${output}`);
    const seen = readFileSync(statuses, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('HTTP '))
      .map((l) => Number(l.slice(5)));
    assert.deepEqual(seen, expected, `statuses as the README shows them:\n${output}`);
    assert.doesNotMatch(output, /"code":"internal"/);
  });
});
