/**
 * What the benchmarks share: a whole process timed start to exit with its peak RSS (bench/rss-probe.mjs),
 * the median, and an emulator in a process of its own (so its CPU and memory are not ours).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const RUNS = Number(process.env.BENCH_RUNS ?? 7);
export const PROBE = ['--import', join(ROOT, 'bench/rss-probe.mjs')];

export interface Sample {
  ms: number;
  rssKb: number;
}

/**
 * Runs `node ...args` with only PATH and `env`, and measures it. `accept` says whether a non-zero exit is
 * the expected outcome (e.g. a dry run whose checks fail on a package with invalid expressions).
 */
export function run(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  accept: (code: number | null, output: string) => boolean = (code) => code === 0,
): Promise<Sample> {
  return new Promise((res, rej) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [...PROBE, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const rss = /BENCH_MAXRSS_KB=(\d+)/.exec(out);
      if (!accept(code, out) || !rss) return rej(new Error(`${args.join(' ')} exited ${code}: ${out.slice(-800)}`));
      res({ ms, rssKb: Number(rss[1]) });
    });
  });
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Starts `script` (a TypeScript file that starts an emulator on $PORT) and resolves once it listens. */
export async function startEmulatorProcess(script: string, port: number): Promise<() => void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('emulator did not start')), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(String(port))) {
        clearTimeout(timer);
        res();
      }
    });
  });
  return () => child.kill();
}

/** Warms both up, then alternates RUNS runs of each; prints and returns medians, ratio and peak RSS. */
export async function compare(name: string, ours: () => Promise<Sample>, plain: () => Promise<Sample>) {
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
  return { name, ratio: mo / mp, oursMs: mo, plainMs: mp, peakRssMb: peak, peakRssPlainMb: peakPlain };
}
