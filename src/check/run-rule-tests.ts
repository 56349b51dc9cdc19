/**
 * Runs program rule test cases with the rule engine: builds the enrollment, the earlier events and the event
 * being entered as the Capture app does (InputBuilder.ts `buildEnrollment`, `convertEvent`: dates as local
 * dates and instants, values as text, the org unit of the form), evaluates the event (`evaluateEvent`) or the
 * enrollment (`evaluateEnrollment`), and compares the effects with what the case expects and forbids.
 * The engine does not throw for a rule that fails: it logs the error (RuleConditionEvaluator
 * `addRuleErrorResult` -> console.error) and skips the rule; those messages are captured and fail the case.
 */
import type { MetadataObject } from '../metadata/types.ts';
import type { RuleEngineModule } from './engines.ts';
import { type ProgramModel, refId, str } from './program-model.ts';
import { ruleEngineContext } from './rule-context.ts';
import type { CaseSpec, EffectSpec, EventSpec, RuleTestFile, Scalar } from './rule-test-file.ts';

/** One effect that happened, as a user reads it. */
export interface Effect {
  action: string;
  rule: string;
  field?: string;
  section?: string;
  stage?: string;
  option?: string;
  optionGroup?: string;
  content?: string;
  /** The evaluated `data` (an ASSIGN's value, the text after a message). */
  data?: string;
}

/** A test case's result, in the report's shape (interface.md). */
export interface TestResult {
  file: string;
  name: string;
  program: string;
  line?: number;
  passed: boolean;
  missing: Omit<EffectSpec, 'line'>[];
  forbidden: Omit<EffectSpec, 'line'>[];
  /** The engine's errors for rules that could give an expected or forbidden effect: they fail the case. */
  errors: string[];
  /** The engine's errors for the other rules (they would be skipped in the form too): shown, not failing. */
  warnings: string[];
  effects: Effect[];
}

type Re = RuleEngineModule;

const ORG_UNIT = 'DiszpKrYNg8';
const DAY = 86_400_000;

function isoDate(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (Number.isNaN(ms)) throw new CaseError(`${what} "${text}" is not a date (YYYY-MM-DD)`);
  return ms;
}

/** What the engine's JS API takes for a LocalDate (js-joda: toEpochDay) and an Instant (toEpochMilli). */
const localDate = (ms: number) => ({ toEpochDay: () => Math.floor(ms / DAY) });
// Noon UTC: the engine turns an instant into a local date in the system time zone; noon keeps the day.
const instant = (ms: number) => ({ toEpochMilli: () => ms + DAY / 2 });

class CaseError extends Error {}

/** Finds an object by uid, code, name, short name or form name (case-insensitive for names). */
function resolve(objects: Iterable<MetadataObject>, key: string): MetadataObject | undefined {
  const list = [...objects];
  const lower = key.toLowerCase();
  return (
    list.find((o) => o.id === key) ??
    list.find((o) => str(o.code) === key) ??
    list.find((o) =>
      [o.name, o.shortName, o.formName, o.displayName].some((n) => typeof n === 'string' && n.toLowerCase() === lower),
    )
  );
}

class CaseContext {
  constructor(
    readonly model: ProgramModel,
    readonly re: Re,
  ) {}

  stage(key: string): MetadataObject {
    const s = resolve(this.model.stages, key);
    if (!s) throw new CaseError(`stage "${key}" is not a stage of program ${this.model.id} (give its uid or name)`);
    return s;
  }

  dataElement(key: string): MetadataObject {
    const own = [...this.model.stageDataElements].map((id) => this.model.dataElements.get(id)).filter(Boolean);
    const de = resolve(own as MetadataObject[], key) ?? resolve(this.model.dataElements.values(), key);
    if (!de) throw new CaseError(`data element "${key}" is not in the file (give its uid, code or name)`);
    return de;
  }

  attribute(key: string): MetadataObject {
    const own = [...this.model.programAttributes].map((id) => this.model.attributes.get(id)).filter(Boolean);
    const a = resolve(own as MetadataObject[], key) ?? resolve(this.model.attributes.values(), key);
    if (!a) throw new CaseError(`tracked entity attribute "${key}" is not in the file (give its uid, code or name)`);
    return a;
  }

  /** A value as stored: an option's code when the field has an option set and the value names an option. */
  value(field: MetadataObject, raw: Scalar): string {
    const text = String(raw);
    const set = this.model.optionSets.get(refId(field.optionSet) ?? '');
    if (!set || !Array.isArray(set.options)) return text;
    const options = (set.options as unknown[]).map((r) => this.model.options.get(refId(r) ?? '')).filter(Boolean);
    if (options.some((o) => str(o?.code) === text)) return text;
    return str(resolve(options as MetadataObject[], text)?.code) ?? text;
  }

  event(spec: EventSpec, id: string, fallbackStage: string | undefined, fallbackDate: number) {
    const { re } = this;
    const stageKey =
      spec.stage ?? fallbackStage ?? (this.model.stages.length === 1 ? String(this.model.stages[0]?.id) : undefined);
    if (!stageKey)
      throw new CaseError(`event ${id} needs a stage (the program has ${this.model.stages.length} stages)`);
    const stage = this.stage(stageKey);
    const date = isoDate(spec.date, 'event date') ?? fallbackDate;
    const due = isoDate(spec.dueDate, 'due date');
    const dataValues = Object.entries(spec.values).map(([k, v]) => {
      const de = this.dataElement(k);
      return new re.RuleDataValue(String(de.id), this.value(de, v));
    });
    const status = (spec.status ?? 'ACTIVE').toUpperCase();
    return new re.RuleEventJs(
      id,
      String(stage.id),
      str(stage.name) ?? '',
      re.RuleEventStatus.valueOf(status),
      instant(date) as never,
      instant(date) as never,
      due === undefined ? null : (localDate(due) as never),
      status === 'COMPLETED' ? (localDate(date) as never) : null,
      ORG_UNIT,
      null,
      dataValues,
    );
  }
}

function effectOf(effect: InstanceType<Re['RuleEffectJs']>): Effect {
  const v = effect.ruleAction.values;
  const type = effect.ruleAction.type;
  const get = (k: string) => v.get(k) ?? undefined;
  return {
    action: type,
    rule: effect.ruleId,
    field: get('field') ?? get('dataElementId') ?? get('trackedEntityAttributeId'),
    section: get('programStageSectionId'),
    stage: get('programStageId'),
    option: get('optionId'),
    optionGroup: get('optionGroupId'),
    content: get('content'),
    data: effect.data ?? undefined,
  };
}

function sameValue(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return a.trim() !== '' && b.trim() !== '' && !Number.isNaN(x) && !Number.isNaN(y) && x === y;
}

/** Does `effect` match the spec? Fields, sections, stages and options match by uid, code or name. */
function matches(ctx: CaseContext, spec: EffectSpec, effect: Effect): boolean {
  if (spec.action !== effect.action) return false;
  const { model } = ctx;
  const refMatches = (key: string | undefined, uid: string | undefined, objects: Iterable<MetadataObject>) =>
    key === undefined || (uid !== undefined && (uid === key || resolve(objects, key)?.id === uid));
  if (!refMatches(spec.field, effect.field, [...model.dataElements.values(), ...model.attributes.values()]))
    return false;
  if (!refMatches(spec.section, effect.section, model.sections.values())) return false;
  if (!refMatches(spec.stage, effect.stage, model.stages)) return false;
  if (!refMatches(spec.option, effect.option, model.options.values())) return false;
  if (!refMatches(spec.optionGroup, effect.optionGroup, model.optionGroups.values())) return false;
  if (spec.content !== undefined) {
    const shown = [effect.content, effect.data].filter(Boolean).join(' ').toLowerCase();
    if (!shown.includes(spec.content.toLowerCase())) return false;
  }
  if (spec.value !== undefined && !sameValue(effect.data, spec.value)) return false;
  return true;
}

function strip(spec: EffectSpec): Omit<EffectSpec, 'line'> {
  const { line: _line, ...rest } = spec;
  return rest;
}

/** Captures what the engine logs as errors while `fn` runs (it reports failing rules only that way). */
function capturingErrors<T>(fn: () => T): { result: T; errors: string[] } {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    errors.push(args.map(String).join(' '));
  };
  try {
    return { result: fn(), errors };
  } finally {
    console.error = original;
  }
}

/** The effect an action would give, unevaluated: to tell which rules a case is about. */
function potentialEffects(model: ProgramModel, ruleId: string): Effect[] {
  return (model.actionsByRule.get(ruleId) ?? []).map((a) => ({
    action: str(a.programRuleActionType) ?? '',
    rule: ruleId,
    field: refId(a.dataElement) ?? refId(a.trackedEntityAttribute),
    section: refId(a.programStageSection),
    stage: refId(a.programStage),
    option: refId(a.option),
    optionGroup: refId(a.optionGroup),
  }));
}

/** The rule uid in an engine error ("Rule NAME with id UID executed for ..."). */
function ruleOfError(message: string): string | undefined {
  return /with id (\S+) executed for/.exec(message)?.[1];
}

function runCase(
  re: Re,
  model: ProgramModel,
  context: InstanceType<Re['RuleEngineContextJs']>,
  file: string,
  spec: CaseSpec,
): TestResult {
  const ctx = new CaseContext(model, re);
  const base: Omit<TestResult, 'passed' | 'missing' | 'forbidden' | 'errors' | 'warnings' | 'effects'> = {
    file,
    name: spec.name,
    program: model.id,
    line: spec.line,
  };
  try {
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const eventDate = isoDate(spec.event?.date, 'event date');
    let enrollment: InstanceType<Re['RuleEnrollmentJs']> | null = null;
    if (model.withRegistration) {
      const e = spec.enrollment;
      const enrolled = isoDate(e?.enrollmentDate, 'enrollmentDate') ?? eventDate ?? today;
      const incident = isoDate(e?.incidentDate, 'incidentDate') ?? enrolled;
      const attributes = Object.entries(e?.attributes ?? {}).map(([k, v]) => {
        const a = ctx.attribute(k);
        return new re.RuleAttributeValue(String(a.id), ctx.value(a, v));
      });
      enrollment = new re.RuleEnrollmentJs(
        'enrollment1',
        model.name,
        localDate(incident) as never,
        localDate(enrolled) as never,
        re.RuleEnrollmentStatus.valueOf((e?.status ?? 'ACTIVE').toUpperCase()),
        ORG_UNIT,
        null,
        attributes,
      );
    } else if (spec.enrollment) {
      throw new CaseError(`program ${model.id} is an event program: a case has no enrollment`);
    }
    const events = spec.events.map((e, i) => ctx.event(e, `event${i + 1}`, undefined, today));
    const evaluateEvent = spec.event !== undefined || spec.stage !== undefined || !model.withRegistration;
    const { result, errors } = capturingErrors(() => {
      if (evaluateEvent) {
        const target = ctx.event(spec.event ?? { values: {} }, 'current', spec.stage, eventDate ?? today);
        return new re.RuleEngineJs(false).evaluateEvent(target, enrollment, events, context);
      }
      return new re.RuleEngineJs(false).evaluateEnrollment(enrollment!, events, context);
    });
    const effects = result.map(effectOf);
    // A rule that throws fails the case when it could give one of the effects the case is about; the others'
    // errors (often a variable with no value in this case) are shown as warnings.
    const relevant = (message: string) => {
      const rule = ruleOfError(message);
      if (!rule) return true;
      const about = [...spec.expect, ...spec.forbid].map((s) => ({ ...s, content: undefined, value: undefined }));
      return potentialEffects(model, rule).some((e) => about.some((s) => matches(ctx, s, e)));
    };
    const missing = spec.expect.filter((s) => !effects.some((e) => matches(ctx, s, e))).map(strip);
    const forbidden = spec.forbid.filter((s) => effects.some((e) => matches(ctx, s, e))).map(strip);
    const failing = errors.filter(relevant);
    const warnings = errors.filter((e) => !relevant(e));
    const passed = missing.length === 0 && forbidden.length === 0 && failing.length === 0;
    return { ...base, passed, missing, forbidden, errors: failing, warnings, effects };
  } catch (e) {
    if (!(e instanceof CaseError)) throw e;
    return { ...base, passed: false, missing: [], forbidden: [], errors: [e.message], warnings: [], effects: [] };
  }
}

/** Runs every case of a test file against its program. */
export function runTestFile(re: Re, model: ProgramModel, test: RuleTestFile): TestResult[] {
  const context = ruleEngineContext(re, model);
  return test.cases.map((c) => runCase(re, model, context, test.file, c));
}
