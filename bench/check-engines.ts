/**
 * `npm run bench` (second part): the engine time of `check` on the largest fixture program (WHO TB, 272 rules,
 * 435 actions, 225 indicators: 831 expressions), each run in a fresh process as a CI job runs it: the time to
 * load the engines, and the time to validate every expression and check the references (runChecks'
 * engineMs, cold: the first run of the process); and the dry run's checks, which judge the server's copy of the
 * program too (the "before" of fail-on new: here the same text parsed again, as the server's export is).
 * Prints the medians over BENCH_RUNS runs (default 7).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const FILE = 'test/fixtures/dhis2/who_TB-REG_TRACKER_V1_DHIS2.33.json';
const PROGRAM = 'Lt6P15ps7f6';

async function once(): Promise<void> {
  const started = performance.now();
  const { loadEngines } = await import('../src/check/engines.ts');
  await loadEngines({ expressionParser: false });
  const loadMs = performance.now() - started;
  const { evaluateBefore, runChecks } = await import('../src/check/run-checks.ts');
  const text = readFileSync(resolve(ROOT, FILE), 'utf8');
  const result = await runChecks([{ id: PROGRAM, file: FILE, text, doc: JSON.parse(text) }], []);
  const expressions = result.programs[0]?.expressions.length ?? 0;
  const beforeStarted = performance.now();
  await evaluateBefore(new Map([[PROGRAM, JSON.parse(text)]]));
  const beforeMs = performance.now() - beforeStarted;
  console.log(JSON.stringify({ loadMs, engineMs: result.engineMs, beforeMs, expressions }));
}

if (process.argv[2] === '--once') {
  await once();
} else {
  const samples: { loadMs: number; engineMs: number; beforeMs: number; expressions: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--once'], { cwd: ROOT });
    samples.push(JSON.parse(out.toString()));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const load = median(samples.map((s) => s.loadMs));
  const engine = median(samples.map((s) => s.engineMs));
  console.log(
    `check, ${PROGRAM} (${samples[0]?.expressions} expressions), median of ${RUNS} fresh processes: ` +
      `engines loaded in ${load.toFixed(0)} ms, engine time ${engine.toFixed(0)} ms ` +
      `(min ${Math.min(...samples.map((s) => s.engineMs)).toFixed(0)}, max ${Math.max(...samples.map((s) => s.engineMs)).toFixed(0)})`,
  );
  console.log(
    `dry-run's checks, the same program and its server copy: engine time ${(engine + median(samples.map((s) => s.beforeMs))).toFixed(0)} ms ` +
      `(the server copy adds ${median(samples.map((s) => s.beforeMs)).toFixed(0)} ms: each distinct question is answered once)`,
  );
  if (engine >= 1000) console.log('  (over the 1 s target: is the machine busy? see `uptime`)');
}
