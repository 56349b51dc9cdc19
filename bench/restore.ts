/**
 * `npm run bench` (restore): a one-field change restored on a program with 3,000 options (WHO TB grown,
 * test/helpers/many-options.ts) against DHIS2 2.43.1 as the emulator speaks it, in its own process. Ours:
 * `dist/cli.js restore` (plan against the server, VALIDATE, rollback point, async COMMIT, verification);
 * plain: bench/plain-restore.mjs (GET the program export, POST the changed option). Each run renames the
 * option anew, so every run has exactly one change to apply. Prints medians, the ratio and peak RSS.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TB_PROGRAM } from '../test/helpers/many-options.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PORT = 19000 + Math.floor(Math.random() * 1000);
const URL_ = `http://127.0.0.1:${PORT}`;
const OPTION = 'FACILITY_01234';
const env = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district', DHIS2_SERVER_URL: URL_ };
const probe = ['--import', join(ROOT, 'bench/rss-probe.mjs')];

interface Sample {
  ms: number;
  rssKb: number;
}

function run(args: string[], cwd: string): Promise<Sample> {
  return new Promise((res, rej) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [...probe, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let err = '';
    let out = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const rss = /BENCH_MAXRSS_KB=(\d+)/.exec(err);
      if (code !== 0 || !rss) return rej(new Error(`${args.join(' ')} exited ${code}: ${(out + err).slice(-800)}`));
      res({ ms, rssKb: Number(rss[1]) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function startEmulatorProcess(): Promise<() => void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/emulator-many-options.ts')], {
    env: { ...process.env, PORT: String(PORT) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('emulator did not start')), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(String(PORT))) {
        clearTimeout(timer);
        res();
      }
    });
  });
  return () => child.kill();
}

const stop = await startEmulatorProcess();
const ws = mkdtempSync(join(tmpdir(), 'bench-restore-'));
try {
  writeFileSync(join(ws, 'dhis2-metadata.yml'), `target: another-server\nprograms:\n  - id: ${TB_PROGRAM}\n`);
  await run([join(ROOT, 'dist/cli.js'), 'export'], ws);
  const file = join(ws, `metadata/${TB_PROGRAM}.json`);
  const original = readFileSync(file, 'utf8');
  let n = 0;
  const ours = (): Promise<Sample> => {
    const doc = JSON.parse(original) as { options: { code?: string; name?: string }[] };
    const option = doc.options.find((o) => o.code === OPTION);
    if (!option) throw new Error(`no option ${OPTION}`);
    option.name = `Facility 01234 (ours ${++n})`;
    writeFileSync(file, JSON.stringify(doc, null, 2));
    return run([join(ROOT, 'dist/cli.js'), 'restore'], ws);
  };
  const plain = (): Promise<Sample> =>
    run([join(ROOT, 'bench/plain-restore.mjs'), URL_, TB_PROGRAM, OPTION, `Facility 01234 (plain ${++n})`], ws);
  await ours(); // warm-up both
  await plain();
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await ours());
    b.push(await plain());
  }
  const mo = median(a.map((s) => s.ms));
  const mp = median(b.map((s) => s.ms));
  const peak = Math.max(...a.map((s) => s.rssKb)) / 1024;
  const peakPlain = Math.max(...b.map((s) => s.rssKb)) / 1024;
  console.log(
    `restore one field of ${TB_PROGRAM} (3,000 options): ours median ${mo.toFixed(0)} ms, plain median ` +
      `${mp.toFixed(0)} ms, ratio ${(mo / mp).toFixed(2)}; peak RSS ours ${peak.toFixed(0)} MB, plain ` +
      `${peakPlain.toFixed(0)} MB (${RUNS} runs each)`,
  );
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(
    join(ROOT, '.tmp/bench-restore.json'),
    JSON.stringify({ name: 'restore', ratio: mo / mp, oursMs: mo, plainMs: mp, peakRssMb: peak }, null, 2),
  );
} finally {
  stop();
  rmSync(ws, { recursive: true, force: true });
}
