/**
 * `npx tsx bench/scale.ts`: the commands at scale (issue 18). For N programs (SCALE_SIZES, default 10,30,100),
 * copies of real programs with uids of their own (test/helpers/many-programs.ts) on DHIS2 2.43.1 as the
 * emulator speaks it, in its own process, behind a counting proxy (bench/request-counter.ts):
 *
 * - export of all N into their files: ours (`dist/cli.js export`, a config listing all N) against
 *   bench/plain-scale-export.mjs (the GETs of bench/plain-export.mjs per program, written with JSON.stringify);
 * - a dry run of a change to 10 of them (one data element renamed in each file): ours (`dist/cli.js dry-run`
 *   over the whole config, as a pull request's check runs it; and with `--programs` naming the 10) against
 *   bench/plain-scale-dry-run.mjs over the same programs (per program: the same GETs, then VALIDATE of the
 *   changed objects, if any).
 *
 * Both sides run 4 programs at a time. Prints per N and job the median wall time, the ratio, the requests made
 * and the peak RSS of each side, then the curve (ms and RSS per program against N) and whether our peak RSS
 * grows with N. BENCH_RUNS runs each after a warm-up (default 3 here). Results in .tmp/bench-scale.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { manyProgramIds } from '../test/helpers/many-programs.ts';
import { median, ROOT, run, startEmulatorProcess, type Sample } from './harness.ts';
import { startRequestCounter, type RequestCounts } from './request-counter.ts';

const SIZES = (process.env.SCALE_SIZES ?? '10,30,100').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHANGED = 10;
/** SCALE_CLI: another build to measure (e.g. a copy of dist/ of a given commit), default dist/cli.js. */
const CLI = process.env.SCALE_CLI ?? join(ROOT, 'dist/cli.js');
const CREDS = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district' };

if (SIZES.some((n) => !Number.isInteger(n) || n < CHANGED)) {
  throw new Error(`SCALE_SIZES: each size must be an integer of at least ${CHANGED}, got ${SIZES.join(',')}`);
}

/** As in bench/run.ts: the WHO TB copies carry expressions DHIS2 calls invalid; only the checks may fail. */
const checksFailOnly = (code: number | null, out: string) =>
  code === 0 || (code === 1 && out.includes('dry run failed: the checks found'));

interface Side {
  ms: number;
  peakRssMb: number;
  requests: number;
  requestKinds: Record<string, number>;
}
interface JobResult {
  /** The same for every N (the curve's key). */
  job: string;
  /** With this N's numbers in it. */
  label: string;
  programs: number;
  runs: number;
  ours: Side;
  plain: Side;
  ratio: number;
}

interface Measured extends Sample {
  counts: RequestCounts;
  output: string;
}

type Runner = () => Promise<Measured>;

/**
 * Warm-up of both (unless the caller's verification runs were that), then RUNS alternating runs; the requests
 * of the last run (each run makes the same).
 */
async function compareAt(
  job: string,
  programs: number,
  ours: Runner,
  plain: Runner,
  warmedUp = false,
): Promise<JobResult> {
  if (!warmedUp) {
    await ours();
    await plain();
  }
  const a: Measured[] = [];
  const b: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await ours());
    b.push(await plain());
  }
  const side = (xs: Measured[]): Side => ({
    ms: median(xs.map((s) => s.ms)),
    peakRssMb: Math.max(...xs.map((s) => s.rssKb)) / 1024,
    requests: xs.at(-1)!.counts.total,
    requestKinds: xs.at(-1)!.counts.byKind,
  });
  const label = job.replace('N', String(programs));
  const result = { job, label, programs, runs: RUNS, ours: side(a), plain: side(b), ratio: 0 };
  result.ratio = result.ours.ms / result.plain.ms;
  const f = (s: Side) => `${s.ms.toFixed(0)} ms, ${s.requests} requests, peak RSS ${s.peakRssMb.toFixed(0)} MB`;
  console.log(
    `N=${programs} ${label}: ours ${f(result.ours)}; plain ${f(result.plain)}; ratio ${result.ratio.toFixed(2)}`,
  );
  return result;
}

/** The dry run's line per program: "<name> (<id>): OK; created 0, updated 9 (1 really changed, 8 unchanged)...". */
function reallyChanged(output: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of output.matchAll(
    /\(([A-Za-z][A-Za-z0-9]{10})\): \w+; created \d+, updated \d+ \((\d+) really changed/g,
  )) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Renames the first data element of each file: one object changed per program. */
function editPrograms(dir: string, ids: string[]): void {
  for (const id of ids) {
    const file = join(dir, `${id}.json`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { dataElements?: { name?: string }[] };
    const de = doc.dataElements?.[0];
    if (!de || typeof de.name !== 'string') throw new Error(`${file}: no data element to rename`);
    de.name = `${de.name} (renamed)`;
    writeFileSync(file, JSON.stringify(doc, null, 2));
  }
}

async function scaleAt(n: number): Promise<JobResult[]> {
  const port = 20000 + Math.floor(Math.random() * 10000);
  process.env.PROGRAMS = String(n);
  const started = Date.now();
  const stop = await startEmulatorProcess('bench/emulator-many-programs.ts', port);
  console.log(`N=${n}: emulator with ${n} programs up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const counter = await startRequestCounter(`http://127.0.0.1:${port}`);
  const ws = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  // The reports (a dry run's holds every expression checked: 25 MB at 100 programs) go with the run.
  const reports = mkdtempSync(join(tmpdir(), 'bench-scale-reports-'));
  const ids = manyProgramIds(n);
  const changed = ids.slice(0, CHANGED);
  const env = { ...CREDS, DHIS2_SERVER_URL: counter.url, DHIS2_METADATA_REPORT_DIR: reports };
  const measured =
    (args: string[], accept: (code: number | null, out: string) => boolean = (code) => code === 0): Runner =>
    async () => {
      let output = '';
      counter.take();
      const sample = await run(args, env, ws, (code, out) => {
        output = out;
        return accept(code, out);
      });
      return { ...sample, output, counts: counter.take() };
    };
  try {
    writeFileSync(
      join(ws, 'dhis2-metadata.yml'),
      `target: another-server\nprograms:\n${ids.map((id) => `  - id: ${id}\n`).join('')}`,
    );
    const metadata = join(ws, 'metadata');
    const plainDir = join(ws, 'plain');
    const exportOurs = measured([CLI, 'export']);
    const exportPlain = measured([join(ROOT, 'bench/plain-scale-export.mjs'), counter.url, plainDir, ...ids]);
    const results = [
      await compareAt(
        'export all N',
        n,
        () => {
          // The full path each time: with the files in place and unchanged, export would skip the writes.
          rmSync(metadata, { recursive: true, force: true });
          return exportOurs();
        },
        () => {
          rmSync(plainDir, { recursive: true, force: true });
          return exportPlain();
        },
      ),
    ];
    const written = readdirSync(metadata).filter((f) => f.endsWith('.json'));
    if (written.length !== n) throw new Error(`export wrote ${written.length} files, not ${n}`);
    if (readdirSync(plainDir).length !== n) throw new Error(`plain export wrote ${readdirSync(plainDir).length} files`);

    editPrograms(metadata, changed);
    const plainDryRun = (programs: string[]) =>
      measured([join(ROOT, 'bench/plain-scale-dry-run.mjs'), counter.url, metadata, ...programs]);
    for (const [job, args, dryRunPlain] of [
      // The whole config: every program compared with the server, on both sides.
      [`dry-run, ${CHANGED} of N changed`, [CLI, 'dry-run', '--no-comment'], plainDryRun(ids)],
      [
        `dry-run --programs (the ${CHANGED})`,
        [CLI, 'dry-run', '--no-comment', '--programs', changed.join(',')],
        plainDryRun(changed),
      ],
    ] as const) {
      const ours = measured([...args], checksFailOnly);
      // The dry run must see exactly the 10 changes, one object each, and nothing else.
      const check = await ours();
      const seen = reallyChanged(check.output);
      const expected = job.startsWith('dry-run,') ? n : CHANGED;
      const wrong = [...seen].filter(([id, c]) => c !== (changed.includes(id) ? 1 : 0));
      if (seen.size !== expected || wrong.length > 0) {
        throw new Error(
          `${job}: expected ${expected} programs, ${CHANGED} with 1 change; got ${seen.size}, wrong ${JSON.stringify(wrong)}\n${check.output.slice(-2000)}`,
        );
      }
      const plainCheck = await dryRunPlain();
      const plainLines = plainCheck.output.match(/: 1 changed objects; OK/g) ?? [];
      if (plainLines.length !== CHANGED) throw new Error(`plain dry run: ${plainCheck.output}`);
      results.push(await compareAt(job, n, ours, dryRunPlain, true));
    }
    return results;
  } finally {
    await counter.close();
    stop();
    rmSync(ws, { recursive: true, force: true });
    rmSync(reports, { recursive: true, force: true });
  }
}

// Other work on the machine skews the times (not the requests, and little the RSS): say how busy it was.
const load = () => loadavg()[0]!.toFixed(1);
console.log(`measuring ${CLI}, ${RUNS} runs each; load average ${load()}`);
const loadBefore = load();
const all: JobResult[] = [];
for (const n of SIZES) all.push(...(await scaleAt(n)));

const jobs = [...new Set(all.map((r) => r.job))];
console.log(
  `\n| N | job | ours ms | plain ms | ratio | requests ours | requests plain | peak RSS ours MB | peak RSS plain MB |`,
);
console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of all) {
  console.log(
    `| ${r.programs} | ${r.label} | ${r.ours.ms.toFixed(0)} | ${r.plain.ms.toFixed(0)} | ${r.ratio.toFixed(2)} | ` +
      `${r.ours.requests} | ${r.plain.requests} | ${r.ours.peakRssMb.toFixed(0)} | ${r.plain.peakRssMb.toFixed(0)} |`,
  );
}
console.log(`\nThe curve (per program: ms ours / plain; peak RSS ours / plain):`);
const verdicts: string[] = [];
for (const j of jobs) {
  const rows = all.filter((r) => r.job === j);
  // The dry run of 10 works on 10 programs whatever N: per program is per changed program there.
  const per = (r: JobResult) => (j.includes('--programs') ? CHANGED : r.programs);
  console.log(
    `  ${j}: ` +
      rows
        .map(
          (r) =>
            `N=${r.programs}: ${(r.ours.ms / per(r)).toFixed(0)} / ${(r.plain.ms / per(r)).toFixed(0)} ms, ` +
            `${r.ours.peakRssMb.toFixed(0)} / ${r.plain.peakRssMb.toFixed(0)} MB`,
        )
        .join('; '),
  );
  const first = rows[0]!;
  const last = rows.at(-1)!;
  if (first !== last) {
    // The plain script's RSS grows a little with N too (the heap V8 keeps after more work): ours grows with N
    // when it grows clearly, and clearly more than the plain script's.
    const growth = last.ours.peakRssMb / first.ours.peakRssMb;
    const plainGrowth = last.plain.peakRssMb / first.plain.peakRssMb;
    const slope = ((last.ours.peakRssMb - first.ours.peakRssMb) / (last.programs - first.programs)) * 1024;
    const grows = growth > 1.2 && growth > plainGrowth * 1.1;
    verdicts.push(
      `${j}: our peak RSS ${grows ? 'GROWS' : 'does not grow'} with N: ${first.ours.peakRssMb.toFixed(0)} MB at ${first.programs}, ` +
        `${last.ours.peakRssMb.toFixed(0)} MB at ${last.programs} (x${growth.toFixed(2)}, ${slope.toFixed(0)} KB more per program; ` +
        `plain x${plainGrowth.toFixed(2)})`,
    );
  }
}
if (verdicts.length > 0) console.log(`\nVerdict:\n  ${verdicts.join('\n  ')}`);
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
const loadAverage = { before: loadBefore, after: load() };
console.log(`load average before ${loadAverage.before}, after ${loadAverage.after}`);
writeFileSync(
  join(ROOT, '.tmp/bench-scale.json'),
  JSON.stringify({ cli: CLI, sizes: SIZES, runs: RUNS, loadAverage, results: all }, null, 2),
);
