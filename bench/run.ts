/**
 * `npm run bench`: measures the commands against a plain script doing the same HTTP work, in the same
 * run, against the DHIS2 emulator running in its own process (so its CPU and memory are not ours).
 * Prints the median wall time of each, their ratio, and the peak RSS of our process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PROGRAM = 'Lt6P15ps7f6'; // WHO TB Case Surveillance: the largest fixture program
const PORT = 18000 + Math.floor(Math.random() * 1000);
const URL_ = `http://127.0.0.1:${PORT}`;
const CREDS = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district' };

interface Sample {
  ms: number;
  rssKb: number;
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<Sample> {
  return new Promise((res, rej) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const rss = /BENCH_MAXRSS_KB=(\d+)/.exec(err);
      if (code !== 0 || !rss) return rej(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 500)}`));
      res({ ms, rssKb: Number(rss[1]) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function startEmulatorProcess(): Promise<() => void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/emulator/main.ts')], {
    env: { ...process.env, PORT: String(PORT) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('emulator did not start')), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(String(PORT))) {
        clearTimeout(timer);
        res();
      }
    });
  });
  return () => child.kill();
}

async function compare(name: string, ours: () => Promise<Sample>, plain: () => Promise<Sample>) {
  await ours(); // warm-up both (the emulator's caches, the OS file cache)
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
    `${name}: ours median ${mo.toFixed(0)} ms, plain median ${mp.toFixed(0)} ms, ratio ${(mo / mp).toFixed(2)}; ` +
      `peak RSS ours ${peak.toFixed(0)} MB, plain ${peakPlain.toFixed(0)} MB (${RUNS} runs each)`,
  );
  return { name, ratio: mo / mp, oursMs: mo, plainMs: mp, peakRssMb: peak };
}

const stop = await startEmulatorProcess();
const ws = mkdtempSync(join(tmpdir(), 'bench-'));
try {
  writeFileSync(join(ws, 'dhis2-metadata.yml'), `target: another-server\nprograms:\n  - id: ${PROGRAM}\n`);
  const env = { ...CREDS, DHIS2_SERVER_URL: URL_ };
  const probe = ['--import', join(ROOT, 'bench/rss-probe.mjs')];
  const results: Awaited<ReturnType<typeof compare>>[] = [
    await compare(
      `export ${PROGRAM}`,
      () => {
        // Measure the full path: with the file in place and unchanged, export would skip the write.
        rmSync(join(ws, 'metadata'), { recursive: true, force: true });
        return run(process.execPath, [...probe, join(ROOT, 'dist/cli.js'), 'export'], env, ws);
      },
      () =>
        run(
          process.execPath,
          [...probe, join(ROOT, 'bench/plain-export.mjs'), URL_, PROGRAM, join(ws, 'plain.json')],
          env,
          ws,
        ),
    ),
  ];
  // The dry run of the same program: the file the export wrote, validated (plus our reads and diff).
  await run(process.execPath, [...probe, join(ROOT, 'dist/cli.js'), 'export'], env, ws);
  results.push(
    await compare(
      `dry-run ${PROGRAM}`,
      () => run(process.execPath, [...probe, join(ROOT, 'dist/cli.js'), 'dry-run'], env, ws),
      () =>
        run(
          process.execPath,
          [...probe, join(ROOT, 'bench/plain-validate.mjs'), URL_, join(ws, `metadata/${PROGRAM}.json`)],
          env,
          ws,
        ),
    ),
  );
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(join(ROOT, '.tmp/bench.json'), JSON.stringify(results, null, 2));
} finally {
  stop();
  rmSync(ws, { recursive: true, force: true });
}
