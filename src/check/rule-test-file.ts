/**
 * Program rule test files (YAML, interface.md "Program rule tests"): found under the config's `tests:` paths
 * (default `rule-tests/` when it exists), parsed with line numbers so that a failing case is annotated on its
 * line, and checked for shape. A malformed file is a user error naming the file, line and key.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { checkedPath, readTextInside, workspaceBoundary } from '../util/paths.ts';
import { join, relative, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, type SourceLocation } from '../errors.ts';
import { setOwn } from '../util/own-keys.ts';

export type Scalar = string | number | boolean;

export interface EffectSpec {
  action: string;
  field?: string;
  section?: string;
  stage?: string;
  option?: string;
  optionGroup?: string;
  content?: string;
  value?: string;
  /** 1-based line of this entry in the YAML file. */
  line?: number;
}

export interface EventSpec {
  stage?: string;
  date?: string;
  dueDate?: string;
  status?: string;
  values: Record<string, Scalar>;
  line?: number;
}

export interface CaseSpec {
  name: string;
  line?: number;
  stage?: string;
  enrollment?: {
    enrollmentDate?: string;
    incidentDate?: string;
    status?: string;
    attributes: Record<string, Scalar>;
  };
  events: EventSpec[];
  event?: EventSpec;
  expect: EffectSpec[];
  forbid: EffectSpec[];
}

export interface RuleTestFile {
  /** Workspace-relative path. */
  file: string;
  program: string;
  programLine?: number;
  cases: CaseSpec[];
}

/** The files the `tests` paths name (folders searched for .yml/.yaml, recursively), workspace-relative, sorted. */
export function findTestFiles(workspace: string, paths: string[] | undefined): string[] {
  const roots = paths ?? (existsSync(resolve(workspace, 'rule-tests')) ? ['rule-tests'] : []);
  const files = new Set<string>();
  const boundary = workspaceBoundary(workspace);
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const child = join(abs, entry.name);
      // A link is followed only where it stays in the workspace (real paths: src/util/paths.ts).
      if (entry.isSymbolicLink()) checkedPath(boundary, relative(workspace, child), 'a rule test file');
      if (entry.isDirectory()) walk(child);
      else if (/\.ya?ml$/i.test(entry.name)) files.add(relative(workspace, child));
    }
  };
  for (const p of roots) {
    const real = checkedPath(boundary, p, 'tests:');
    if (!existsSync(real)) throw new ConfigError(`tests: ${p} not found in the workspace`);
    if (statSync(real).isDirectory()) walk(resolve(workspace, p));
    else files.add(relative(workspace, resolve(workspace, p)));
  }
  return [...files].sort();
}

class Reader {
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  line(node: unknown): number | undefined {
    const range = (node as Node | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }

  fail(node: unknown, message: string): never {
    const location: SourceLocation = { file: this.file, line: this.line(node) };
    throw new ConfigError(`${this.file}${location.line ? `:${location.line}` : ''}: ${message}`, location);
  }
}

function scalarText(r: Reader, node: unknown, what: string): string {
  const value = (node as { value?: unknown } | undefined)?.value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return r.fail(node, `${what} must be a text, number or true/false`);
}

function optionalText(r: Reader, map: Node, key: string, where: string): string | undefined {
  if (!isMap(map)) return undefined;
  const node = map.get(key, true);
  return node === undefined || (node as { value?: unknown }).value === null
    ? undefined
    : scalarText(r, node, `${where}.${key}`);
}

function values(r: Reader, map: Node, key: string, where: string): Record<string, Scalar> {
  if (!isMap(map)) return {};
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || (node as { value?: unknown }).value === null) return {};
  if (!isMap(node)) r.fail(node, `${where}.${key} must be a map of field: value`);
  const out: Record<string, Scalar> = {};
  for (const pair of node.items) {
    const k = scalarText(r, pair.key, `a key of ${where}.${key}`);
    const v = (pair.value as { value?: unknown } | null)?.value;
    if (v === null || v === undefined) continue;
    setOwn(out, k, scalarText(r, pair.value, `${where}.${key}.${k}`));
  }
  return out;
}

function checkKeys(r: Reader, map: Node, allowed: string[], where: string): void {
  if (!isMap(map)) r.fail(map, `${where} must be a map`);
  for (const pair of map.items) {
    const k = String((pair.key as { value?: unknown }).value);
    if (!allowed.includes(k)) r.fail(pair.key, `${where} has an unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

const EFFECT_KEYS = ['action', 'field', 'section', 'stage', 'option', 'optionGroup', 'content', 'value'];
const EVENT_KEYS = ['stage', 'date', 'dueDate', 'status', 'values'];

function event(r: Reader, node: Node, where: string): EventSpec {
  checkKeys(r, node, EVENT_KEYS, where);
  return {
    stage: optionalText(r, node, 'stage', where),
    date: optionalText(r, node, 'date', where),
    dueDate: optionalText(r, node, 'dueDate', where),
    status: optionalText(r, node, 'status', where),
    values: values(r, node, 'values', where),
    line: r.line(node),
  };
}

function effects(r: Reader, map: Node, key: 'expect' | 'forbid', where: string): EffectSpec[] {
  if (!isMap(map)) return [];
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || (node as { value?: unknown }).value === null) return [];
  if (!isSeq(node)) r.fail(node, `${where}.${key} must be a list of effects ({action: ..., field: ...})`);
  return node.items.map((item, i) => {
    const w = `${where}.${key}[${i}]`;
    checkKeys(r, item as Node, EFFECT_KEYS, w);
    const action = optionalText(r, item as Node, 'action', w);
    if (!action) r.fail(item, `${w} needs an action (a program rule action type such as HIDEFIELD)`);
    const spec: EffectSpec = { action: action.toUpperCase(), line: r.line(item) };
    for (const k of EFFECT_KEYS.slice(1) as (keyof EffectSpec)[]) {
      const v = optionalText(r, item as Node, k, w);
      if (v !== undefined) (spec as unknown as Record<string, string>)[k] = v;
    }
    return spec;
  });
}

/** Parses one test file; throws a ConfigError at the offending line when its shape is wrong. */
export function parseTestFile(text: string, file: string): RuleTestFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const r: Reader = new Reader(file, lines);
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new ConfigError(`${file}:${pos.line}: not valid YAML: ${first.message.split('\n')[0]}`, {
      file,
      line: pos.line,
      column: pos.col,
    });
  }
  const root = doc.contents as Node | null;
  if (!root || !isMap(root)) r.fail(root, 'a rule test file is a map with `program` and `cases`');
  checkKeys(r, root, ['program', 'cases'], 'the file');
  const program = optionalText(r, root, 'program', 'the file');
  if (!program) r.fail(root, 'needs `program:` (a program uid of the config)');
  const casesNode = root.get('cases', true) as Node | undefined;
  if (!casesNode || !isSeq(casesNode)) r.fail(casesNode ?? root, '`cases:` must be a list of test cases');
  const cases = casesNode.items.map((item, i): CaseSpec => {
    const where = `cases[${i}]`;
    const node = item as Node;
    checkKeys(r, node, ['name', 'stage', 'enrollment', 'events', 'event', 'expect', 'forbid'], where);
    const name = optionalText(r, node, 'name', where);
    if (!name) r.fail(node, `${where} needs a name`);
    const map = node as Node & { get(k: string, keep: true): unknown };
    const enrollmentNode = map.get('enrollment', true) as Node | undefined;
    let enrollment: CaseSpec['enrollment'];
    if (enrollmentNode && (enrollmentNode as { value?: unknown }).value !== null) {
      const w = `${where}.enrollment`;
      checkKeys(r, enrollmentNode, ['enrollmentDate', 'incidentDate', 'status', 'attributes'], w);
      enrollment = {
        enrollmentDate: optionalText(r, enrollmentNode, 'enrollmentDate', w),
        incidentDate: optionalText(r, enrollmentNode, 'incidentDate', w),
        status: optionalText(r, enrollmentNode, 'status', w),
        attributes: values(r, enrollmentNode, 'attributes', w),
      };
    }
    const eventsNode = map.get('events', true) as Node | undefined;
    let events: EventSpec[] = [];
    if (eventsNode && (eventsNode as { value?: unknown }).value !== null) {
      if (!isSeq(eventsNode)) r.fail(eventsNode, `${where}.events must be a list of events`);
      events = eventsNode.items.map((e, k) => event(r, e as Node, `${where}.events[${k}]`));
    }
    const eventNode = map.get('event', true) as Node | undefined;
    const current =
      eventNode && (eventNode as { value?: unknown }).value !== null
        ? event(r, eventNode, `${where}.event`)
        : undefined;
    const spec: CaseSpec = {
      name,
      line: r.line(node),
      stage: optionalText(r, node, 'stage', where),
      enrollment,
      events,
      event: current,
      expect: effects(r, node, 'expect', where),
      forbid: effects(r, node, 'forbid', where),
    };
    if (spec.expect.length === 0 && spec.forbid.length === 0) {
      r.fail(node, `${where} ("${name}") lists no effects under expect or forbid`);
    }
    return spec;
  });
  return { file, program, programLine: r.line(root.get('program', true)), cases };
}

export function readTestFile(workspace: string, file: string): RuleTestFile {
  const text = readTextInside(workspaceBoundary(workspace), file, 'rule test file');
  if (text === undefined) throw new ConfigError(`rule test file ${file} not found in the workspace`);
  return parseTestFile(text, file);
}
