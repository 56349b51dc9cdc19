/**
 * The programs of the scale benchmark (test/helpers/many-programs.ts): n copies of real programs that one
 * server could hold side by side: new valid uids everywhere, references kept inside each copy, unique names
 * unique again, and the emulator takes them as a seed and validates their exports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { DEFAULT_ID_SET, EMBEDDED, UNIQUE } from '../emulator/schema.ts';
import { isObj, type Obj } from '../emulator/store.ts';
import { fixture } from '../helpers/fixtures.ts';
import {
  MANY_PROGRAM_SOURCES,
  manyProgramIds,
  manyPrograms,
  programTemplate,
  references,
  sourceOf,
} from '../helpers/many-programs.ts';
import type { MetadataDocument } from '../../src/metadata/types.ts';

const UID = /^[a-zA-Z][a-zA-Z0-9]{10}$/;
const TOKEN = /(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]{10}(?![A-Za-z0-9])/g;
/** Each source twice, so that copies of the same program meet. */
const N = MANY_PROGRAM_SOURCES.length * 2;

const objects = (doc: MetadataDocument): [string, Obj][] =>
  Object.entries(doc).flatMap(([c, list]) =>
    Array.isArray(list) ? list.filter(isObj).map((o): [string, Obj] => [c, o]) : [],
  );

/** The ids of a document's objects, embedded ones (stage data elements, legends...) included. */
function ids(doc: MetadataDocument): Map<string, string> {
  const out = new Map<string, string>();
  for (const [c, o] of objects(doc)) {
    out.set(o.id as string, c);
    for (const [prop, embedded] of Object.entries(EMBEDDED[c] ?? {})) {
      for (const e of Array.isArray(o[prop]) ? o[prop] : []) if (isObj(e)) out.set(e.id as string, embedded);
    }
  }
  return out;
}

function tokens(v: unknown, out: Set<string>): Set<string> {
  if (typeof v === 'string') for (const m of v.matchAll(TOKEN)) out.add(m[0]);
  else if (Array.isArray(v)) for (const x of v) tokens(x, out);
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      tokens(k, out);
      tokens(x, out);
    }
  }
  return out;
}

/** The ids of every object a fixture defines (top level and embedded). */
function sourceIds(file: string): Set<string> {
  const out = new Set<string>();
  for (const [c, o] of objects(fixture(file))) {
    if (typeof o.id === 'string') out.add(o.id);
    for (const prop of Object.keys(EMBEDDED[c] ?? {})) {
      for (const e of Array.isArray(o[prop]) ? o[prop] : []) if (isObj(e) && typeof e.id === 'string') out.add(e.id);
    }
  }
  return out;
}

describe('manyPrograms', () => {
  const docs = manyPrograms(N);
  const shared = new Set<string>(MANY_PROGRAM_SOURCES.flatMap((s) => [...programTemplate(s).shared]));

  it('makes n programs, one per document, with distinct ids, the ids manyProgramIds names', () => {
    expect(docs).toHaveLength(N);
    const programIds = docs.map((d) => {
      const programs = d.programs as Obj[];
      expect(programs).toHaveLength(1);
      return programs[0]!.id;
    });
    expect(programIds).toEqual(manyProgramIds(N));
    expect(new Set(programIds).size).toBe(N);
    // Every source program is among them, under a new name.
    const names = docs.map((d) => String((d.programs as Obj[])[0]!.name));
    for (const [i, name] of names.entries()) expect(name).toMatch(new RegExp(` #${i + 1}$`));
  });

  it('is deterministic, and the first n of a larger set are the smaller set', () => {
    expect(manyPrograms(2)).toEqual(manyPrograms(2));
    expect(manyPrograms(N + 1).slice(0, N)).toEqual(docs);
  });

  it('gives every object a valid uid, unique across all copies but for the shared objects', () => {
    const seen = new Map<string, number>();
    docs.forEach((doc, k) => {
      for (const id of ids(doc).keys()) {
        expect(id).toMatch(UID);
        if (shared.has(id)) continue;
        expect(seen.get(id), `${id} in copy ${k + 1} and ${seen.get(id)! + 1}`).toBeUndefined();
        seen.set(id, k);
      }
    });
    // A few thousand objects, so the test is not vacuous.
    expect(seen.size).toBeGreaterThan(2000);
  });

  it('shares only what a server keeps once: the default category model, users, user groups, org units, attributes', () => {
    for (const s of MANY_PROGRAM_SOURCES) {
      const t = programTemplate(s);
      for (const id of t.shared) {
        const c = Object.entries(t.doc).find(([, list]) => list.some((o) => o.id === id))?.[0];
        expect(
          DEFAULT_ID_SET.has(id) ||
            ['attributes', 'users', 'userGroups', 'userRoles', 'organisationUnits'].includes(c!),
          `${s.program}: shared ${c}/${id}`,
        ).toBe(true);
      }
    }
  });

  it('leaves no uid of the source package in a copy, in ids, references, keys or expressions', () => {
    docs.forEach((doc, k) => {
      const source = sourceIds(sourceOf(k + 1).file);
      const left = [...tokens(doc, new Set())].filter((t) => source.has(t) && !shared.has(t));
      expect(left, `copy ${k + 1}`).toEqual([]);
    });
  });

  it('resolves every reference of a copy inside that copy, to an object of the right type', () => {
    docs.forEach((doc, k) => {
      const own = ids(doc);
      const unresolved: string[] = [];
      for (const [c, o] of objects(doc)) {
        references(o, c, (target, id) => {
          if (own.get(id) !== target) unresolved.push(`${c}/${o.id as string} -> ${target}/${id}`);
        });
      }
      expect(unresolved, `copy ${k + 1}`).toEqual([]);
    });
  });

  it('points expressions and forms only at uids of the same copy', () => {
    const all = docs.map(ids);
    docs.forEach((doc, k) => {
      const elsewhere = [...tokens(doc, new Set())].filter(
        (t) => !shared.has(t) && !all[k]!.has(t) && all.some((other, j) => j !== k && other.has(t)),
      );
      expect(elsewhere, `copy ${k + 1}`).toEqual([]);
    });
    // The TB copies' indicator filters name stages and data elements by uid: the remap reached into them.
    const indicators = docs[0]!.programIndicators as Obj[];
    const items = indicators.flatMap(
      (pi) => `${String(pi.expression)} ${String(pi.filter)}`.match(/[#ACI]\{[^}]*\}/g) ?? [],
    );
    const named = [...tokens(items, new Set())];
    expect(named.length).toBeGreaterThan(50);
    for (const t of named) expect(all[0]!.has(t), t).toBe(true);
  });

  it('keeps the unique names, short names and codes unique over all copies', () => {
    for (const [c, props] of Object.entries(UNIQUE)) {
      for (const prop of props) {
        const holders = new Map<string, string>();
        for (const doc of docs) {
          for (const o of (doc[c] as Obj[] | undefined) ?? []) {
            const v = o[prop];
            if (typeof v !== 'string' || shared.has(o.id as string)) continue;
            const other = holders.get(v);
            expect(other === undefined || other === o.id, `${c}.${prop} "${v}": ${other} and ${o.id}`).toBe(true);
            holders.set(v, o.id as string);
            if (prop !== 'name') expect(v.length).toBeLessThanOrEqual(50);
          }
        }
      }
    }
  });
});

describe('manyPrograms on the emulator', () => {
  let emulator: Emulator;
  const auth = { Authorization: `Basic ${Buffer.from('admin:district').toString('base64')}` };
  beforeAll(async () => {
    emulator = await startEmulator({ version: '2.43.1', seed: manyPrograms(N) });
  });
  afterAll(() => emulator.close());

  it('serves each copy as a program of its own, and validates each export as it is', async () => {
    const list = (await (await fetch(`${emulator.url}/api/programs?paging=false`, { headers: auth })).json()) as {
      programs: Obj[];
    };
    expect(list.programs.map((p) => p.id).sort()).toEqual(manyProgramIds(N).sort());
    for (const id of manyProgramIds(N)) {
      const doc = (await (
        await fetch(`${emulator.url}/api/programs/${id}/metadata.json`, { headers: auth })
      ).json()) as {
        programs: Obj[];
      };
      expect(doc.programs.map((p) => p.id)).toEqual([id]);
      const r = await fetch(`${emulator.url}/api/metadata?importMode=VALIDATE&importStrategy=CREATE_AND_UPDATE`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(doc),
      });
      const report = (await r.json()) as { status: string; response?: { status: string } };
      expect((report.response ?? report).status, id).toBe('OK');
    }
  });
});
