/**
 * Tracker data in the emulator: seeding, POST /api/tracker, GET /api/tracker/events and /trackedEntities with their
 * filters, paging and errors, and the differences by version (version.ts). The recorded 2.43.1 answers themselves are
 * replayed in test/contract/emulator-contract.test.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { call, withEmulator, type Res } from './helpers.ts';
import { SAMPLE_SEED, type Emulator } from './index.ts';
import { pageLink } from './tracker.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const EPI = JSON.parse(readFileSync(`${FIXTURES}made/epi_registry_program.json`, 'utf8')) as Record<string, unknown>;
const CREATED = JSON.parse(readFileSync(`${FIXTURES}dhis2/real-2.43.1/tracker-data-created.json`, 'utf8')) as Record<
  string,
  unknown
>[];
const SEED = [...SAMPLE_SEED, EPI];

const PROGRAM = 'SSLpOM0r1U7';
const BIRTH = 'RcbCl5ww8XY';
const IMMUNIZATION = 'xEEsAoCaA2Q';
const BIRTH_TYPE = 'LtlzGAPWWo8';
const BIRTH_WEIGHT = 'TqpOoast0vQ';
const VACCINE = 'j8VMtbYo9Mq';
const SEX = 'oindugucx72';
const GIVEN_NAME = 'sB1IHYu2xQT';
const PERSON = 'MCPQUTHX1Ze';
const ROOT = 'ImspTQPwCqd';
/** A stage of another program of the seed (the WHO TB program). */
const OTHER_STAGE = 'mPdMZNWVrOQ';

/** A tracked entity enrolled in the EPI program with one Birth details event. */
function person(
  n: number,
  opts: { sex?: string; birthType?: string; weight?: string; name?: string; orgUnit?: string } = {},
): Record<string, unknown> {
  const id = (p: string): string => `${p}${String(n).padStart(10 - p.length + 1, '0')}`;
  const ou = opts.orgUnit ?? ROOT;
  const attributes = [
    ...(opts.sex ? [{ attribute: SEX, value: opts.sex }] : []),
    ...(opts.name ? [{ attribute: GIVEN_NAME, value: opts.name }] : []),
  ];
  const dataValues = [
    ...(opts.birthType ? [{ dataElement: BIRTH_TYPE, value: opts.birthType }] : []),
    ...(opts.weight ? [{ dataElement: BIRTH_WEIGHT, value: opts.weight }] : []),
  ];
  return {
    trackedEntity: id('Te'),
    trackedEntityType: PERSON,
    orgUnit: ou,
    attributes,
    enrollments: [
      {
        enrollment: id('En'),
        program: PROGRAM,
        orgUnit: ou,
        enrolledAt: '2026-06-01',
        status: 'ACTIVE',
        events: [
          {
            event: id('Ev'),
            programStage: BIRTH,
            program: PROGRAM,
            orgUnit: ou,
            occurredAt: '2026-06-01',
            status: 'COMPLETED',
            dataValues,
          },
        ],
      },
    ],
  };
}

function withTracker<T>(
  fn: (emu: Emulator) => Promise<T>,
  version = '2.43.1',
  trackerData: unknown = CREATED,
): Promise<T> {
  return withEmulator({ version, seed: SEED, trackerData: trackerData as Record<string, unknown>[] }, fn);
}

const events = (emu: Emulator, query: string): Promise<Res> => call(emu, `/api/tracker/events?${query}`);
const tes = (emu: Emulator, query: string): Promise<Res> => call(emu, `/api/tracker/trackedEntities?${query}`);
const post = (emu: Emulator, query: string, body: unknown): Promise<Res> =>
  call(emu, `/api/tracker?async=false${query}`, { body });

/** The total of a counting request (pageSize=1&totalPages=true): in the pager, or flat before 2.41. */
async function total(emu: Emulator, path: 'events' | 'trackedEntities', query: string): Promise<number> {
  const r = await call(emu, `/api/tracker/${path}?${query}&pageSize=1&totalPages=true`);
  expect(r.status, r.text).toBe(200);
  return (r.json.pager?.total ?? r.json.total) as number;
}
const countEvents = (emu: Emulator, filter: string): Promise<number> =>
  total(emu, 'events', `program=${PROGRAM}&programStage=${BIRTH}&filter=${filter}`);

describe('seeding and the accessor', () => {
  it('loads the recorded nested array and lists what it holds', async () => {
    await withTracker(async (emu) => {
      expect(emu.tracker.counts()).toEqual({ trackedEntities: 3, enrollments: 3, events: 3 });
      const evs = emu.tracker.events();
      expect(evs.map((e) => e.event)).toEqual(['wFVBvLmQaNg', 'pJmJwV2Pmn5', 'SNbM6PoDdT6']);
      expect(evs[0]).toMatchObject({
        enrollment: 'zFv4iGLxZuo',
        trackedEntity: 'pfaprtOO9Nf',
        program: PROGRAM,
        programStage: BIRTH,
        dataValues: [{ dataElement: BIRTH_TYPE, value: 'TWIN' }],
        deleted: false,
      });
      expect(emu.tracker.trackedEntities()[2]!.attributes).toContainEqual({ attribute: SEX, value: 'MALE' });
      expect(emu.tracker.enrollments()[1]).toMatchObject({ enrollment: 'u37NDxW3R9N', trackedEntity: 'A2ofaKkNwUU' });
      // Deep copies.
      evs[0]!.dataValues[0]!.value = 'CHANGED';
      expect(emu.tracker.events()[0]!.dataValues[0]!.value).toBe('TWIN');
    });
  });

  it('accepts {trackedEntities} too, and none at all', async () => {
    await withTracker(async (emu) => expect(emu.tracker.counts().events).toBe(3), '2.43.1', {
      trackedEntities: CREATED,
    });
    await withEmulator({ version: '2.43.1', seed: SEED }, async (emu) =>
      expect(emu.tracker.counts()).toEqual({ trackedEntities: 0, enrollments: 0, events: 0 }),
    );
  });

  it('throws on data the import refuses', async () => {
    const bad = [{ ...person(1), trackedEntityType: 'NoSuchType1' }];
    await expect(withTracker(async () => undefined, '2.43.1', bad)).rejects.toThrow(/E1005/);
  });
});

describe('POST /api/tracker', () => {
  it('CREATE answers the ImportReport with stats and a bundle report per type', async () => {
    await withTracker(
      async (emu) => {
        const r = await post(emu, '&importStrategy=CREATE', { trackedEntities: CREATED });
        expect(r.status).toBe(200);
        expect(Object.keys(r.json)).toEqual(['status', 'validationReport', 'stats', 'bundleReport']);
        expect(r.json.status).toBe('OK');
        expect(r.json.validationReport).toEqual({ errorReports: [], warningReports: [] });
        expect(r.json.stats).toEqual({ created: 9, updated: 0, deleted: 0, ignored: 0, total: 9 });
        const map = r.json.bundleReport.typeReportMap;
        expect(Object.keys(map).sort()).toEqual(['ENROLLMENT', 'EVENT', 'RELATIONSHIP', 'TRACKED_ENTITY']);
        expect(map.EVENT.stats.created).toBe(3);
        expect(map.EVENT.objectReports[0]).toEqual({ trackerType: 'EVENT', uid: 'wFVBvLmQaNg', errorReports: [] });
        expect(map.RELATIONSHIP.objectReports).toEqual([]);
        expect(emu.tracker.counts()).toEqual({ trackedEntities: 3, enrollments: 3, events: 3 });
      },
      '2.43.1',
      [],
    );
  });

  it('CREATE of what exists: 409, status ERROR, every object ignored, nothing changed', async () => {
    await withTracker(async (emu) => {
      const r = await post(emu, '&importStrategy=CREATE', { trackedEntities: CREATED });
      expect(r.status).toBe(409);
      expect(r.json.status).toBe('ERROR');
      expect(r.json.stats).toEqual({ created: 0, updated: 0, deleted: 0, ignored: 9, total: 9 });
      expect(r.json.bundleReport).toBeUndefined();
      const codes = r.json.validationReport.errorReports.map((e: { errorCode: string }) => e.errorCode);
      expect(new Set(codes)).toEqual(new Set(['E1002', 'E1080', 'E1030']));
      expect(r.json.validationReport.errorReports[0]).toEqual({
        message: 'TrackedEntity: `pfaprtOO9Nf`, already exists.',
        errorCode: 'E1002',
        trackerType: 'TRACKED_ENTITY',
        uid: 'pfaprtOO9Nf',
        args: ['pfaprtOO9Nf'],
      });
      expect(emu.tracker.counts().events).toBe(3);
    });
  });

  it('CREATE_AND_UPDATE (the default) updates, merging attribute and data values; UPDATE of a missing one is E1063', async () => {
    await withTracker(async (emu) => {
      const r = await post(emu, '', {
        events: [
          {
            event: 'wFVBvLmQaNg',
            enrollment: 'zFv4iGLxZuo',
            programStage: BIRTH,
            program: PROGRAM,
            orgUnit: ROOT,
            dataValues: [{ dataElement: BIRTH_WEIGHT, value: '3100' }],
          },
        ],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.stats).toEqual({ created: 0, updated: 1, deleted: 0, ignored: 0, total: 1 });
      expect(emu.tracker.events()[0]!.dataValues).toEqual([
        { dataElement: BIRTH_TYPE, value: 'TWIN' },
        { dataElement: BIRTH_WEIGHT, value: '3100' },
      ]);
      // An empty value deletes the data value.
      await post(emu, '', {
        events: [
          {
            event: 'wFVBvLmQaNg',
            enrollment: 'zFv4iGLxZuo',
            programStage: BIRTH,
            orgUnit: ROOT,
            dataValues: [{ dataElement: BIRTH_TYPE, value: '' }],
          },
        ],
      });
      expect(emu.tracker.events()[0]!.dataValues).toEqual([{ dataElement: BIRTH_WEIGHT, value: '3100' }]);
      expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TWIN`)).toBe(1);

      const missing = await post(emu, '&importStrategy=UPDATE', {
        trackedEntities: [{ ...person(9), enrollments: [] }],
      });
      expect(missing.status).toBe(409);
      expect(missing.json.validationReport.errorReports[0].errorCode).toBe('E1063');
    });
  });

  it('DELETE soft-deletes, cascading to enrollments and events; deleted objects leave the exports', async () => {
    await withTracker(async (emu) => {
      const r = await post(emu, '&importStrategy=DELETE', { trackedEntities: [{ trackedEntity: 'pfaprtOO9Nf' }] });
      expect(r.status).toBe(200);
      expect(r.json.stats).toEqual({ created: 0, updated: 0, deleted: 1, ignored: 0, total: 1 });
      expect(emu.tracker.counts()).toEqual({ trackedEntities: 2, enrollments: 2, events: 2 });
      expect(emu.tracker.events({ includeDeleted: true })[0]!.deleted).toBe(true);
      expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TWIN`)).toBe(1);
      expect(await total(emu, 'trackedEntities', `program=${PROGRAM}&filter=${SEX}:eq:FEMALE`)).toBe(1);
      expect(await total(emu, 'events', `program=${PROGRAM}&includeDeleted=true`)).toBe(3);
      const again = await post(emu, '&importStrategy=UPDATE', {
        trackedEntities: [{ ...CREATED[0], enrollments: [] }],
      });
      expect(again.json.validationReport.errorReports[0].errorCode).toBe('E1114');
      const gone = await post(emu, '&importStrategy=DELETE', { events: [{ event: 'NoSuchEvnt1' }] });
      expect(gone.json.validationReport.errorReports[0]).toMatchObject({
        errorCode: 'E1032',
        message: 'Event: `NoSuchEvnt1` do not exist.',
      });
    });
  });

  it('validates references: type, org unit, program, stage, stage of another program, attribute, data element, option code', async () => {
    await withTracker(
      async (emu) => {
        const base = person(1, { birthType: 'TWIN', sex: 'FEMALE' }) as {
          enrollments: { events: Record<string, unknown>[] }[];
        } & Record<string, unknown>;
        const ev = base.enrollments[0]!.events[0]!;
        const cases: [string, Record<string, unknown>][] = [
          ['E1005', { ...base, trackedEntityType: 'NoSuchType1' }],
          ['E1049', { ...base, orgUnit: 'NoSuchOrgU1' }],
          ['E1006', { ...base, attributes: [{ attribute: 'NoSuchAttr1', value: 'x' }] }],
          ['E1125', { ...base, attributes: [{ attribute: SEX, value: 'UNKNOWN' }] }],
          ['E1069', { ...base, enrollments: [{ ...base.enrollments[0], program: 'NoSuchProg1' }] }],
          [
            'E1013',
            { ...base, enrollments: [{ ...base.enrollments[0], events: [{ ...ev, programStage: 'NoSuchStag1' }] }] },
          ],
          [
            'E1089',
            { ...base, enrollments: [{ ...base.enrollments[0], events: [{ ...ev, programStage: OTHER_STAGE }] }] },
          ],
          [
            'E1304',
            {
              ...base,
              enrollments: [
                {
                  ...base.enrollments[0],
                  events: [{ ...ev, dataValues: [{ dataElement: 'NoSuchDaEl1', value: '1' }] }],
                },
              ],
            },
          ],
          [
            'E1305',
            {
              ...base,
              enrollments: [
                { ...base.enrollments[0], events: [{ ...ev, dataValues: [{ dataElement: VACCINE, value: 'BCG' }] }] },
              ],
            },
          ],
          [
            'E1125',
            {
              ...base,
              enrollments: [
                {
                  ...base.enrollments[0],
                  events: [{ ...ev, dataValues: [{ dataElement: BIRTH_TYPE, value: 'QUAD' }] }],
                },
              ],
            },
          ],
        ];
        for (const [code, te] of cases) {
          const r = await post(emu, '', { trackedEntities: [te] });
          expect(r.status, `${code}: ${r.text}`).toBe(409);
          const codes = r.json.validationReport.errorReports.map((e: { errorCode: string }) => e.errorCode);
          expect(codes, code).toContain(code);
        }
        expect(emu.tracker.counts()).toEqual({ trackedEntities: 0, enrollments: 0, events: 0 });
        const ok = await post(emu, '', { trackedEntities: [base] });
        expect(ok.status, ok.text).toBe(200);
      },
      '2.43.1',
      [],
    );
  });

  it('a flat payload, generated uids, VALIDATE, and the parameters DHIS2 refuses or the emulator does not do', async () => {
    await withTracker(
      async (emu) => {
        const { enrollments, ...te } = person(1, { birthType: 'TWIN' }) as Record<string, unknown> & {
          enrollments: Record<string, unknown>[];
        };
        const { events: evs, ...en } = enrollments[0]! as Record<string, unknown> & {
          events: Record<string, unknown>[];
        };
        const { event: _event, ...ev } = evs[0]!;
        const validate = await post(emu, '&importMode=VALIDATE', {
          trackedEntities: [te],
          enrollments: [{ ...en, trackedEntity: te.trackedEntity }],
        });
        expect(validate.json).toEqual({
          status: 'OK',
          validationReport: { errorReports: [], warningReports: [] },
          stats: { created: 0, updated: 0, deleted: 0, ignored: 0, total: 0 },
          bundleReport: { typeReportMap: {} },
        });
        expect(emu.tracker.counts().trackedEntities).toBe(0);
        const r = await post(emu, '', {
          trackedEntities: [te],
          enrollments: [{ ...en, trackedEntity: te.trackedEntity }],
          events: [{ ...ev, enrollment: en.enrollment }],
        });
        expect(r.status, r.text).toBe(200);
        expect(r.json.stats.created).toBe(3);
        expect(emu.tracker.events()[0]!.event).toMatch(/^[a-zA-Z][a-zA-Z0-9]{10}$/);

        const strategy = await post(emu, '&importStrategy=INVALID', {});
        expect(strategy.status).toBe(400);
        expect(strategy.json.message).toBe(
          "Value 'INVALID' is not valid for parameter importStrategy. Valid values are: [CREATE, UPDATE, CREATE_AND_UPDATE, DELETE]",
        );
        expect((await call(emu, '/api/tracker?async=INVALID', { body: {} })).json.message).toBe(
          "Value 'INVALID' is not valid for parameter async. It should be of type boolean",
        );
        expect((await call(emu, '/api/tracker?async=FaLSE&importMode=VALIDATE', { body: {} })).status).toBe(200);
        expect((await call(emu, '/api/tracker', { body: {} })).status).toBe(501);
        expect((await post(emu, '&atomicMode=OBJECT', {})).status).toBe(501);
        const badUid = await post(emu, '', {
          trackedEntities: [{ trackedEntity: 'invalid_uid', trackedEntityType: PERSON, orgUnit: ROOT }],
        });
        expect(badUid.status).toBe(400);
        expect(badUid.json.message).toMatch(/but was: invalid_uid$/);
        expect((await call(emu, '/api/tracker?async=false', { body: 'x', contentType: 'text/plain' })).status).toBe(
          415,
        );
        expect((await call(emu, '/api/tracker/events')).status).toBe(400);
        expect((await call(emu, '/api/tracker', { method: 'GET' })).status).toBe(405);
      },
      '2.43.1',
      [],
    );
  });
});

/** The EPI data plus two more people: a TRIPLET born at 2500 g, and one without birth type (weight 3600). */
const MORE = [
  ...CREATED,
  person(4, { sex: 'MALE', birthType: 'TRIPLET', weight: '2500', name: 'Ana, B: x/y' }),
  person(5, { sex: 'FEMALE', weight: '3600', name: 'bea' }),
];

describe('GET /api/tracker/events: filters', () => {
  it('eq and in compare case-insensitively; in splits on ;', async () => {
    await withTracker(
      async (emu) => {
        expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TWIN`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:eq:twin`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:EQ:Twin`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:ieq:twin`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:in:TWIN;SINGLETON`)).toBe(3);
        expect(await countEvents(emu, `${BIRTH_TYPE}:in:twin;triplet`)).toBe(3);
        expect(await countEvents(emu, `${BIRTH_TYPE}:in:TWIN`)).toBe(2);
      },
      '2.43.1',
      MORE,
    );
  });

  it('null and !null test whether the value exists; binary operators never match a missing value', async () => {
    await withTracker(
      async (emu) => {
        expect(await countEvents(emu, `${BIRTH_TYPE}:!null`)).toBe(4);
        expect(await countEvents(emu, `${BIRTH_TYPE}:null`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_TYPE}:NULL`)).toBe(1);
        // !eq / ne / neq: the event without a birth type is not counted (SQL on NULL).
        expect(await countEvents(emu, `${BIRTH_TYPE}:!eq:TWIN`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:ne:TWIN`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:neq:TWIN`)).toBe(2);
        // The bare uid: has a value.
        expect(await countEvents(emu, BIRTH_TYPE)).toBe(4);
      },
      '2.43.1',
      MORE,
    );
  });

  it('like, ilike, sw, ew, !like; numbers compare as numbers for eq/gt/lt/in', async () => {
    await withTracker(
      async (emu) => {
        expect(await countEvents(emu, `${BIRTH_TYPE}:like:wi`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:ilike:WI`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_TYPE}:sw:t`)).toBe(3);
        expect(await countEvents(emu, `${BIRTH_TYPE}:ew:ton`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_TYPE}:!like:wi`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:gt:3000`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:ge:2500`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:lt:3000`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:eq:2500.0`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:in:2500;3600`)).toBe(2);
        expect(await countEvents(emu, `${BIRTH_WEIGHT}:gt:2000:lt:3000`)).toBe(1);
        const bad = await events(emu, `program=${PROGRAM}&filter=${BIRTH_WEIGHT}:gt:heavy`);
        expect(bad.status).toBe(400);
        expect(bad.json.message).toBe(
          `Filter for data element ${BIRTH_WEIGHT} is invalid. The data element value type is INTEGER_POSITIVE but the value \`heavy\` is not.`,
        );
      },
      '2.43.1',
      MORE,
    );
  });

  it('several filters: comma separated or repeated, all must hold', async () => {
    await withTracker(
      async (emu) => {
        expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TRIPLET,${BIRTH_WEIGHT}:eq:2500`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TRIPLET&filter=${BIRTH_WEIGHT}:eq:2500`)).toBe(1);
        expect(await countEvents(emu, `${BIRTH_TYPE}:eq:TWIN&filter=${BIRTH_WEIGHT}:eq:2500`)).toBe(0);
        // Attribute filters on events.
        const byAttr = await total(emu, 'events', `program=${PROGRAM}&filterAttributes=${SEX}:eq:MALE`);
        expect(byAttr).toBe(2);
      },
      '2.43.1',
      MORE,
    );
  });

  it('`/` escapes `:`, `,` and itself in values', async () => {
    await withTracker(
      async (emu) => {
        const q = (f: string): Promise<number> =>
          total(emu, 'trackedEntities', `program=${PROGRAM}&filter=${encodeURIComponent(f)}`);
        expect(await q(`${GIVEN_NAME}:eq:Ana/, B/: x//y`)).toBe(1);
        expect(await q(`${GIVEN_NAME}:like:/,`)).toBe(1);
        // Unescaped, the comma starts another filter (` B: x/y` is no UID).
        const r = await tes(emu, `program=${PROGRAM}&filter=${encodeURIComponent(`${GIVEN_NAME}:eq:Ana, B`)}`);
        expect(r.status).toBe(400);
        expect(r.json.message).toBe(
          `filter=${GIVEN_NAME}:eq:Ana, B is invalid. UID must be an alphanumeric string of 11 characters starting with a letter, but was:  B`,
        );
      },
      '2.43.1',
      MORE,
    );
  });

  it('errors: unknown data element (E1003), a data element of another stage (0), malformed filters', async () => {
    await withTracker(async (emu) => {
      const unknown = await events(emu, `program=${PROGRAM}&filter=XXXXXXXXXXX:eq:TWIN`);
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get('content-type')).toBe('application/json');
      expect(unknown.json).toEqual({
        httpStatus: 'Bad Request',
        httpStatusCode: 400,
        status: 'ERROR',
        message: "filter is invalid. Data element 'XXXXXXXXXXX' does not exist.",
        errorCode: 'E1003',
      });
      expect(await countEvents(emu, `${VACCINE}:eq:TWIN`)).toBe(0);
      const msg = async (f: string): Promise<string> =>
        (await events(emu, `program=${PROGRAM}&filter=${f}`)).json.message as string;
      expect(await msg(`${BIRTH_TYPE}:nope:x`)).toBe(
        `filter=${BIRTH_TYPE}:nope:x is invalid. 'nope' is not a valid operator.`,
      );
      expect(await msg(`${BIRTH_TYPE}:eq`)).toBe(
        `filter=${BIRTH_TYPE}:eq is invalid. Binary operator 'eq' must have a value.`,
      );
      expect(await msg(`${BIRTH_TYPE}:!null:x`)).toBe(
        `filter=${BIRTH_TYPE}:!null:x is invalid. Unary operator '!null' cannot have a value.`,
      );
      expect(await msg(`${BIRTH_TYPE}:gt:1:lt:5:ne:3:eq:2`)).toMatch(/A maximum of three operators/);
    });
  });
});

describe('GET /api/tracker/events: parameters, paging, fields', () => {
  it('program is required (Tomcat page), must exist; programStage must exist; no program parameter before 2.43', async () => {
    await withTracker(async (emu) => {
      const none = await events(emu, 'pageSize=1');
      expect(none.status).toBe(400);
      expect(none.headers.get('content-type')).toBe('text/html;charset=utf-8');
      expect(none.text).toContain('Required parameter &#39;program&#39; is not present.');
      expect((await events(emu, 'program=')).status).toBe(400);
      expect((await events(emu, 'program=NoSuchProg1')).json.message).toBe(
        'Program is specified but does not exist: NoSuchProg1',
      );
      expect((await events(emu, `program=${PROGRAM}&programStage=NoSuchStag1`)).json.message).toBe(
        'Program stage is specified but does not exist: NoSuchStag1',
      );
      expect(await total(emu, 'events', `program=${PROGRAM}&programStage=${IMMUNIZATION}`)).toBe(0);
    });
    await withTracker(async (emu) => {
      expect(await total(emu, 'events', 'orgUnitMode=ALL')).toBe(3);
    }, '2.42.5');
  });

  it('pages: nextPage / prevPage links with the request parameters, no nextPage on the last page', async () => {
    await withTracker(async (emu) => {
      const first = await events(emu, `program=${PROGRAM}&pageSize=2&fields=event`);
      expect(first.json.pager).toEqual({
        page: 1,
        pageSize: 2,
        nextPage: `${emu.url}/api/tracker/events?program=${PROGRAM}&pageSize=2&fields=event&page=2`,
      });
      expect(first.json.events).toEqual([{ event: 'SNbM6PoDdT6' }, { event: 'pJmJwV2Pmn5' }]);
      const second = await events(emu, `page=2&program=${PROGRAM}&pageSize=2&fields=event&totalPages=true`);
      expect(second.json.pager).toEqual({
        page: 2,
        pageSize: 2,
        total: 3,
        pageCount: 2,
        prevPage: `${emu.url}/api/tracker/events?program=${PROGRAM}&pageSize=2&fields=event&totalPages=true&page=1`,
      });
      expect(second.json.events).toEqual([{ event: 'wFVBvLmQaNg' }]);
      const beyond = await events(emu, `program=${PROGRAM}&page=5&pageSize=2&fields=event`);
      expect(beyond.json.events).toEqual([]);
      expect(beyond.json.pager.prevPage).toMatch(/page=4$/);
      const all = await events(emu, `program=${PROGRAM}&paging=false&fields=event`);
      expect(all.json).toEqual({
        events: [{ event: 'SNbM6PoDdT6' }, { event: 'pJmJwV2Pmn5' }, { event: 'wFVBvLmQaNg' }],
      });
      const both = await events(emu, `program=${PROGRAM}&paging=false&pageSize=2`);
      expect(both.status).toBe(400);
      expect(both.json.message).toMatch(/^Paging cannot be disabled with paging=false/);
      expect((await events(emu, `program=${PROGRAM}&pageSize=0`)).status).toBe(400);
    });
  });

  it('the page link keeps the query as sent: repeated parameters grouped, page moved last, nothing re-encoded', () => {
    expect(pageLink('http://h', '/api/tracker/events', 'filter=a:eq:b&page=3&x=%3A&filter=c:!null&flag', 4)).toBe(
      'http://h/api/tracker/events?filter=a:eq:b&filter=c:!null&x=%3A&flag&page=4',
    );
  });

  it('fields: the default (*,!relationships), a selection, a sub-selection', async () => {
    await withTracker(async (emu) => {
      const full = await events(emu, `program=${PROGRAM}&pageSize=1`);
      const e = full.json.events[0];
      expect(e).toMatchObject({
        event: 'SNbM6PoDdT6',
        status: 'COMPLETED',
        program: PROGRAM,
        programStage: BIRTH,
        enrollment: 'ttgu0wHnXzn',
        trackedEntity: 'lITobab7AOr',
        orgUnit: ROOT,
        occurredAt: '2026-06-03T00:00:00.000',
        deleted: false,
        notes: [],
      });
      expect(e.relationships).toBeUndefined();
      expect(e.dataValues[0]).toMatchObject({ dataElement: BIRTH_TYPE, value: 'SINGLETON' });
      const sel = await events(emu, `program=${PROGRAM}&pageSize=1&fields=event,trackedEntity,dataValues[value]`);
      expect(sel.json.events).toEqual([
        { event: 'SNbM6PoDdT6', trackedEntity: 'lITobab7AOr', dataValues: [{ value: 'SINGLETON' }] },
      ]);
      const star = await events(emu, `program=${PROGRAM}&pageSize=1&fields=*`);
      expect(star.json.events[0].relationships).toEqual([]);
    });
  });

  it('org unit modes: SELECTED / DESCENDANTS / CHILDREN on the owner org unit; invalid combinations are 400', async () => {
    const district = 'O6uvpzGd5pu'; // Bo, a child of Sierra Leone
    const facility = 'DiszpKrYNg8'; // Ngelehun CHC, in Bo
    const data = [
      ...CREATED,
      person(6, { birthType: 'TWIN', orgUnit: district }),
      person(8, { birthType: 'TWIN', orgUnit: facility }),
    ];
    await withTracker(
      async (emu) => {
        const q = `program=${PROGRAM}&filter=${BIRTH_TYPE}:eq:TWIN`;
        expect(await total(emu, 'events', q)).toBe(4);
        expect(await total(emu, 'events', `${q}&orgUnit=${district}`)).toBe(1);
        expect(await total(emu, 'events', `${q}&orgUnit=${ROOT}&orgUnitMode=SELECTED`)).toBe(2);
        expect(await total(emu, 'events', `${q}&orgUnit=${ROOT}&orgUnitMode=CHILDREN`)).toBe(3);
        expect(await total(emu, 'events', `${q}&orgUnit=${ROOT}&orgUnitMode=DESCENDANTS`)).toBe(4);
        expect(await total(emu, 'events', `${q}&orgUnit=${district}&orgUnitMode=DESCENDANTS`)).toBe(2);
        const withOu = await events(emu, `${q}&orgUnit=${ROOT}&orgUnitMode=ALL`);
        expect(withOu.json.message).toBe(
          'orgUnitMode ALL cannot be used with orgUnits. Please remove the orgUnit parameter and try again.',
        );
        const without = await events(emu, `${q}&orgUnitMode=SELECTED`);
        expect(without.json.message).toBe(
          'At least one org unit is required for orgUnitMode: SELECTED. Please add one org unit or use a different orgUnitMode.',
        );
        // 2.43: ouMode is no parameter any more (ignored).
        expect(await total(emu, 'events', `${q}&ouMode=SELECTED`)).toBe(4);
      },
      '2.43.1',
      data,
    );
  });

  it('parameters the emulator does not apply answer 501 rather than being ignored', async () => {
    await withTracker(async (emu) => {
      const r = await events(emu, `program=${PROGRAM}&occurredAfter=2026-01-01`);
      expect(r.status).toBe(501);
      expect(r.json.message).toMatch(/occurredAfter/);
    });
  });
});

describe('GET /api/tracker/trackedEntities', () => {
  it('attribute filters, program (only tracked entities it owns), trackedEntityType', async () => {
    const unenrolled = { ...person(7, { sex: 'FEMALE' }), enrollments: [] };
    await withTracker(
      async (emu) => {
        expect(await total(emu, 'trackedEntities', `program=${PROGRAM}&filter=${SEX}:eq:FEMALE`)).toBe(2);
        expect(await total(emu, 'trackedEntities', `program=${PROGRAM}&filter=${SEX}:eq:female`)).toBe(2);
        expect(await total(emu, 'trackedEntities', `program=${PROGRAM}&filter=${SEX}:!null`)).toBe(3);
        expect(await total(emu, 'trackedEntities', `program=${PROGRAM}`)).toBe(3);
        // The one never enrolled is found by type, not by program.
        expect(await total(emu, 'trackedEntities', `trackedEntityType=${PERSON}&filter=${SEX}:eq:FEMALE`)).toBe(3);
        expect(await total(emu, 'trackedEntities', 'trackedEntities=Te000000007')).toBe(1);
        const first = await tes(emu, `program=${PROGRAM}&filter=${SEX}:eq:FEMALE&pageSize=1&fields=trackedEntity`);
        expect(first.json.trackedEntities).toEqual([{ trackedEntity: 'A2ofaKkNwUU' }]);
        const full = await tes(emu, `program=${PROGRAM}&pageSize=1`);
        expect(full.json.trackedEntities[0].enrollments).toBeUndefined();
        expect(full.json.trackedEntities[0].attributes).toContainEqual(
          expect.objectContaining({ attribute: SEX, value: 'MALE', valueType: 'TEXT' }),
        );
        const nested = await tes(
          emu,
          `program=${PROGRAM}&pageSize=1&fields=trackedEntity,enrollments[enrollment,events[event]]`,
        );
        expect(nested.json.trackedEntities).toEqual([
          {
            trackedEntity: 'lITobab7AOr',
            enrollments: [{ enrollment: 'ttgu0wHnXzn', events: [{ event: 'SNbM6PoDdT6' }] }],
          },
        ]);
      },
      '2.43.1',
      [...CREATED, unenrolled],
    );
  });

  it('errors: none of program / type / uids, both program and type, unknown attribute, unknown program or type', async () => {
    await withTracker(async (emu) => {
      const none = await tes(emu, 'pageSize=1');
      expect(none.status).toBe(400);
      expect(none.json).toEqual({
        httpStatus: 'Bad Request',
        httpStatusCode: 400,
        status: 'ERROR',
        message: 'Either `program`, `trackedEntityType` or `trackedEntities` should be specified',
        errorCode: 'E1003',
      });
      expect((await tes(emu, `program=${PROGRAM}&trackedEntityType=${PERSON}`)).json.message).toBe(
        '`program` and `trackedEntityType` cannot be specified simultaneously',
      );
      expect((await tes(emu, `program=${PROGRAM}&filter=XXXXXXXXXXX:eq:FEMALE`)).json.message).toBe(
        "attribute filters are invalid. Tracked entity attribute 'XXXXXXXXXXX' does not exist.",
      );
      expect((await tes(emu, 'program=NoSuchProg1')).json.message).toBe(
        'Program is specified but does not exist: NoSuchProg1',
      );
      expect((await tes(emu, 'trackedEntityType=NoSuchType1')).json.message).toBe(
        'Tracked entity type is specified but does not exist: NoSuchType1',
      );
    });
  });
});

describe('versions', () => {
  const q = `program=${PROGRAM}&filter=${BIRTH_TYPE}:eq:TWIN&pageSize=1&totalPages=true&fields=event`;

  it('2.38-2.40: a flat page with `instances`, ouMode only (orgUnitMode ignored), no links', async () => {
    await withTracker(async (emu) => {
      const r = await events(emu, `${q}&ouMode=ALL`);
      expect(r.json).toEqual({ page: 1, pageSize: 1, total: 2, pageCount: 2, instances: [{ event: 'pJmJwV2Pmn5' }] });
      expect((await events(emu, `${q}&orgUnitMode=SELECTED`)).status).toBe(200);
      expect((await events(emu, `${q}&ouMode=SELECTED`)).status).toBe(400);
      const noTotals = await events(emu, `program=${PROGRAM}&pageSize=1&fields=event`);
      expect(noTotals.json).toEqual({ page: 1, pageSize: 1, instances: [{ event: 'SNbM6PoDdT6' }] });
      const te = await tes(emu, `program=${PROGRAM}&ouMode=ALL&pageSize=1&fields=trackedEntity`);
      expect(te.json).toEqual({ page: 1, pageSize: 1, instances: [{ trackedEntity: 'lITobab7AOr' }] });
      // Without org unit and mode / without program and type: 409.
      expect((await tes(emu, `program=${PROGRAM}`)).json).toMatchObject({
        httpStatusCode: 409,
        message: 'At least one organisation unit must be specified',
      });
      expect((await tes(emu, 'ouMode=ALL')).json).toMatchObject({
        httpStatusCode: 409,
        message: 'Either Program or Tracked entity type should be specified',
      });
      // skipPaging instead of paging.
      expect((await events(emu, `program=${PROGRAM}&skipPaging=true&fields=event`)).json.instances).toHaveLength(3);
    }, '2.40.3');
  });

  it('2.41: the pager nested and flat, `events`; ouMode and orgUnitMode both read, not together', async () => {
    await withTracker(async (emu) => {
      const r = await events(emu, q);
      expect(r.json).toEqual({
        page: 1,
        pageSize: 1,
        total: 2,
        pageCount: 2,
        pager: { page: 1, pageSize: 1, total: 2, pageCount: 2 },
        events: [{ event: 'pJmJwV2Pmn5' }],
      });
      expect((await events(emu, `${q}&ouMode=SELECTED`)).status).toBe(400);
      const both = await events(emu, `${q}&ouMode=ALL&orgUnitMode=ALL`);
      expect(both.json.message).toBe(
        "Only one parameter of 'ouMode' and 'orgUnitMode' must be specified. Prefer 'orgUnitMode' as 'ouMode' will be removed.",
      );
      expect((await tes(emu, 'orgUnitMode=ALL')).json.httpStatusCode).toBe(400);
    }, '2.41.3');
  });

  it('2.42: pager only with links; program optional; ouMode ignored', async () => {
    await withTracker(async (emu) => {
      const r = await events(emu, q);
      expect(Object.keys(r.json)).toEqual(['pager', 'events']);
      expect(r.json.pager.nextPage).toBe(`${emu.url}/api/tracker/events?${q}&page=2`);
      expect((await events(emu, `${q}&ouMode=SELECTED`)).status).toBe(200);
      expect(await total(emu, 'events', `filter=${BIRTH_TYPE}:!null`)).toBe(3);
    }, '2.42.5');
  });

  it('null / !null exist from 2.42; before, `uid:!null` is an invalid query item', async () => {
    await withTracker(async (emu) => {
      const r = await events(emu, `program=${PROGRAM}&filter=${BIRTH_TYPE}:!null`);
      expect(r.status).toBe(400);
      expect(r.json.message).toBe(`Query item or filter is invalid: ${BIRTH_TYPE}:!null`);
      expect((await events(emu, `program=${PROGRAM}&filter=${BIRTH_TYPE}:eq`)).json.message).toBe(
        `Query item or filter is invalid: ${BIRTH_TYPE}:eq`,
      );
      // The bare uid ("has a value") and two operator pairs work.
      expect(await total(emu, 'events', `program=${PROGRAM}&filter=${BIRTH_TYPE}`)).toBe(3);
      expect(await total(emu, 'events', `program=${PROGRAM}&filter=${BIRTH_TYPE}:like:t:like:n`)).toBe(3);
    }, '2.41.3');
  });

  it('escaping with `/` from 2.40.1; 2.40.0 splits on every `:` and `,`', async () => {
    const f = encodeURIComponent(`${GIVEN_NAME}:eq:Ana/, B/: x/y`);
    await withTracker(
      async (emu) => {
        expect(await total(emu, 'trackedEntities', `program=${PROGRAM}&ouMode=ALL&filter=${f}`)).toBe(1);
      },
      '2.40.1',
      MORE,
    );
    await withTracker(
      async (emu) => {
        const r = await tes(emu, `program=${PROGRAM}&ouMode=ALL&filter=${f}`);
        expect(r.status).toBe(400);
      },
      '2.40.0',
      MORE,
    );
  });

  it('up to 2.41 option-set data elements compare the option name, except `in`, which compares the code', async () => {
    for (const [version, byCode, byName] of [
      ['2.41.3', 0, 1],
      ['2.43.1', 1, 0],
    ] as const) {
      await withTracker(
        async (emu) => {
          const base = `program=${PROGRAM}&programStage=${BIRTH}`;
          const n = (f: string): Promise<number> => total(emu, 'events', `${base}&filter=${encodeURIComponent(f)}`);
          expect(await n(`${BIRTH_TYPE}:eq:TRIPLET`), version).toBe(byCode);
          expect(await n(`${BIRTH_TYPE}:eq:triplet or more`), version).toBe(byName);
          expect(await n(`${BIRTH_TYPE}:in:TRIPLET`), version).toBe(1);
          // TWIN's name is Twin: the same either way.
          expect(await n(`${BIRTH_TYPE}:eq:TWIN`), version).toBe(2);
        },
        version,
        MORE,
      );
    }
  });
});
