import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);

// src/check/check-worker.ts
import { parentPort, workerData } from "node:worker_threads";

// src/errors.ts
var UserError = class extends Error {
  constructor(message, location = {}) {
    super(message);
    this.location = location;
    this.name = new.target.name;
  }
};
var ConfigError = class extends UserError {
};
function isUserError(e) {
  return e instanceof UserError;
}

// src/check/engines.ts
var rules;
var parser;
var parserLoaded;
var engines = {
  rules: void 0,
  get expressions() {
    if (!parserLoaded) throw new Error("the expression parser was not loaded");
    return parserLoaded;
  }
};
async function loadEngines(options = {}) {
  rules ??= import("./rule-engine.js").then((m) => m);
  if (options.expressionParser !== false) {
    parser ??= import("./expression-parser.js").then((m) => parserLoaded = m);
    await parser;
  }
  engines.rules = await rules;
  return engines;
}

// src/util/own-keys.ts
function keyTable(entries) {
  return Object.freeze(Object.assign(/* @__PURE__ */ Object.create(null), entries));
}

// src/check/json-locator.ts
var JsonKeyLocator = class {
  constructor(path, text) {
    this.path = path;
    this.text = text;
  }
  index;
  /** The location of `key` in the object defining `uid` (else the object, else just the file). */
  locate(uid, key) {
    const index = this.index ??= scan(this.text);
    const object = uid ? index.objects.get(uid) : void 0;
    if (!object) return { file: this.path };
    const offset = (key !== void 0 ? object.keys.get(key) : void 0) ?? object.start;
    return { file: this.path, ...lineColumn(index.lineStarts, offset) };
  }
};
function lineColumn(lineStarts, offset) {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}
var NO_KEYS = /* @__PURE__ */ new Map();
function scan(text) {
  const objects = /* @__PURE__ */ new Map();
  const lineStarts = [0];
  const stack = [];
  let i = 0;
  const n2 = text.length;
  let escaped = false;
  const endOfString = () => {
    let j = i + 1;
    escaped = false;
    while (j < n2) {
      const c = text.charCodeAt(j);
      if (c === 92) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c === 34) break;
      if (c === 10) lineStarts.push(j + 1);
      j++;
    }
    return j;
  };
  const skipString = () => {
    i = endOfString() + 1;
  };
  const readString = () => {
    const j = endOfString();
    const raw = text.slice(i, j + 1);
    i = j + 1;
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw);
    } catch {
      return raw.slice(1, -1);
    }
  };
  while (i < n2) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 10) {
      lineStarts.push(i + 1);
      i++;
    } else if (c === 123 || c === 91) {
      stack.push({ object: c === 123, start: i, keys: c === 123 ? /* @__PURE__ */ new Map() : NO_KEYS, expectKey: c === 123 });
      i++;
    } else if (c === 125 || c === 93) {
      const frame = stack.pop();
      if (frame?.object && frame.id !== void 0 && frame.keys.size > 1) {
        const seen = objects.get(frame.id);
        if (!seen || seen.start > frame.start) objects.set(frame.id, { start: frame.start, keys: frame.keys });
      }
      i++;
    } else if (c === 34) {
      const start = i;
      if (!top?.object || !top.expectKey && top.pendingKey !== "id") {
        skipString();
        continue;
      }
      const s = readString();
      if (top.expectKey) {
        top.keys.set(s, start);
        top.pendingKey = s;
        top.expectKey = false;
      } else {
        top.id = s;
      }
    } else if (c === 44) {
      if (top?.object) {
        top.expectKey = true;
        top.pendingKey = void 0;
      }
      i++;
    } else {
      i++;
    }
  }
  return { objects, lineStarts };
}

// src/check/junit.ts
function describeEffectSpec(spec) {
  const { action, ...rest } = spec;
  const details = Object.entries(rest).filter(([, v]) => v !== void 0).map(([k, v]) => `${k}: ${String(v)}`);
  return details.length ? `${String(action)} (${details.join(", ")})` : String(action);
}
function failureLines(result) {
  return [
    ...result.missing.map((m) => `missing: ${describeEffectSpec(m)}`),
    ...result.forbidden.map((f) => `unexpected: ${describeEffectSpec(f)}`),
    ...result.errors.map((e) => `error: ${e}`)
  ];
}

// src/metadata/types.ts
function collection(doc, key) {
  const v = doc[key];
  return Array.isArray(v) ? v : [];
}

// src/check/program-model.ts
function refId(value) {
  if (value && typeof value === "object" && typeof value.id === "string") {
    return value.id;
  }
  return void 0;
}
function str(value) {
  return typeof value === "string" ? value : void 0;
}
function byId(objects) {
  const map = /* @__PURE__ */ new Map();
  for (const o of objects) if (typeof o.id === "string") map.set(o.id, o);
  return map;
}
function ofProgram(doc, key, programId) {
  return collection(doc, key).filter((o) => {
    const p = refId(o.program);
    return p === void 0 || p === programId;
  });
}
function programModel(doc, programId) {
  const program = collection(doc, "programs").find((p) => p.id === programId);
  const stages = collection(doc, "programStages").filter((s) => {
    const p = refId(s.program);
    if (p !== void 0) return p === programId;
    const listed = Array.isArray(program?.programStages) ? program.programStages : [];
    return listed.some((r) => refId(r) === s.id);
  });
  const stageDataElements = /* @__PURE__ */ new Set();
  for (const s of stages) {
    const psdes = Array.isArray(s.programStageDataElements) ? s.programStageDataElements : [];
    for (const psde of psdes) {
      const de = refId(psde.dataElement);
      if (de) stageDataElements.add(de);
    }
  }
  const programAttributes = /* @__PURE__ */ new Set();
  const ptas = Array.isArray(program?.programTrackedEntityAttributes) ? program.programTrackedEntityAttributes : [];
  for (const pta of ptas) {
    const a = refId(pta.trackedEntityAttribute);
    if (a) programAttributes.add(a);
  }
  const actionById = byId(collection(doc, "programRuleActions"));
  const rules2 = ofProgram(doc, "programRules", programId);
  for (const rule of rules2) {
    for (const a of Array.isArray(rule.programRuleActions) ? rule.programRuleActions : []) {
      if (a && typeof a.id === "string" && Object.keys(a).length > 1 && !actionById.has(a.id)) actionById.set(a.id, a);
    }
  }
  const actionsByRule = /* @__PURE__ */ new Map();
  const missingActions = [];
  const claimed = /* @__PURE__ */ new Set();
  for (const rule of rules2) {
    const list = [];
    for (const r of Array.isArray(rule.programRuleActions) ? rule.programRuleActions : []) {
      const id = refId(r);
      if (!id) continue;
      const action = actionById.get(id);
      if (action) {
        list.push(action);
        claimed.add(id);
      } else missingActions.push({ rule, id });
    }
    actionsByRule.set(String(rule.id), list);
  }
  for (const action of actionById.values()) {
    const ruleId = refId(action.programRule);
    if (!ruleId || claimed.has(String(action.id))) continue;
    actionsByRule.get(ruleId)?.push(action);
  }
  const templates = byId(collection(doc, "programNotificationTemplates"));
  return {
    id: programId,
    program,
    name: str(program?.name) ?? programId,
    withRegistration: program?.programType !== "WITHOUT_REGISTRATION",
    rules: rules2,
    actionsByRule,
    missingActions,
    variables: ofProgram(doc, "programRuleVariables", programId),
    indicators: ofProgram(doc, "programIndicators", programId),
    stages,
    fileStages: new Set(collection(doc, "programStages").map((s) => String(s.id))),
    stageById: byId(stages),
    stageDataElements,
    dataElements: byId(collection(doc, "dataElements")),
    attributes: byId(collection(doc, "trackedEntityAttributes")),
    programAttributes,
    sections: byId([
      ...collection(doc, "programStageSections"),
      ...stages.flatMap(
        (s) => (Array.isArray(s.programStageSections) ? s.programStageSections : []).filter(
          (x) => x && Object.keys(x).length > 1
        )
      )
    ]),
    options: byId(collection(doc, "options")),
    optionSets: byId(collection(doc, "optionSets")),
    optionGroups: byId(collection(doc, "optionGroups")),
    notificationTemplates: templates,
    legendSets: byId(collection(doc, "legendSets")),
    constants: collection(doc, "constants")
  };
}
function sourceType(variable) {
  return str(variable.programRuleVariableSourceType) ?? str(variable.sourceType) ?? "DATAELEMENT_CURRENT_EVENT";
}
function ruleName(rule) {
  return str(rule?.name) ?? str(rule?.displayName) ?? String(rule?.id ?? "?");
}

// src/check/item-store.ts
var DATE_TYPES = /* @__PURE__ */ new Set(["DATE", "DATETIME", "AGE"]);
var NUMERIC_TYPES = /* @__PURE__ */ new Set([
  "INTEGER",
  "INTEGER_POSITIVE",
  "INTEGER_NEGATIVE",
  "INTEGER_ZERO_OR_POSITIVE",
  "NUMBER",
  "UNIT_INTERVAL",
  "PERCENTAGE"
]);
var BOOLEAN_TYPES = /* @__PURE__ */ new Set(["BOOLEAN", "TRUE_ONLY"]);
function itemValueType(valueType) {
  const v = String(valueType ?? "");
  if (DATE_TYPES.has(v)) return "DATE";
  if (NUMERIC_TYPES.has(v)) return "NUMBER";
  if (BOOLEAN_TYPES.has(v)) return "BOOLEAN";
  return "TEXT";
}
var ENV_VARIABLES = keyTable({
  completed_date: "DATE",
  current_date: "DATE",
  event_date: "DATE",
  incident_date: "DATE",
  enrollment_date: "DATE",
  due_date: "DATE",
  event_count: "NUMBER",
  tei_count: "NUMBER",
  enrollment_count: "NUMBER",
  event_id: "NUMBER",
  program_stage_id: "NUMBER",
  enrollment_id: "NUMBER",
  enrollment_status: "TEXT",
  event_status: "TEXT",
  org_unit: "TEXT",
  orgunit_code: "TEXT",
  environment: "TEXT",
  program_name: "TEXT",
  program_stage_name: "TEXT"
});
function environmentLabel(key) {
  const words = key.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
var DATA_ELEMENT_SOURCES = /* @__PURE__ */ new Set([
  "DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE",
  "DATAELEMENT_NEWEST_EVENT_PROGRAM",
  "DATAELEMENT_CURRENT_EVENT",
  "DATAELEMENT_PREVIOUS_EVENT"
]);
function isDataElementSource(type) {
  return DATA_ELEMENT_SOURCES.has(type);
}
function variableField(model, variable) {
  const type = sourceType(variable);
  if (isDataElementSource(type)) return model.dataElements.get(refId(variable.dataElement) ?? "");
  if (type === "TEI_ATTRIBUTE") return model.attributes.get(refId(variable.trackedEntityAttribute) ?? "");
  return void 0;
}
function variableValueType(model, variable) {
  if (sourceType(variable) === "CALCULATED_VALUE") return variable.valueType;
  return variableField(model, variable)?.valueType;
}
function variableLabel(model, variable) {
  const type = sourceType(variable);
  const field = variableField(model, variable);
  if (isDataElementSource(type)) {
    return str(field?.formName) || str(field?.name) || str(variable.name) || "";
  }
  if (type === "TEI_ATTRIBUTE") return str(field?.name) || str(field?.formName) || str(variable.name) || "";
  return str(variable.displayName) ?? str(variable.name) ?? "";
}
function itemStore(model) {
  const store = /* @__PURE__ */ new Map();
  for (const v of model.variables) {
    const key = str(v.name) ?? str(v.displayName);
    if (key === void 0) continue;
    store.set(key, { label: variableLabel(model, v), type: itemValueType(variableValueType(model, v)) });
  }
  for (const c of model.constants) {
    if (typeof c.id !== "string") continue;
    store.set(c.id, { label: str(c.displayName) ?? str(c.displayFormName) ?? str(c.name) ?? c.id, type: "NUMBER" });
  }
  for (const [key, type] of Object.entries(ENV_VARIABLES)) store.set(key, { label: environmentLabel(key), type });
  return store;
}
function engineItemStore(engine, store) {
  const DataItem = engine.DataItemJs;
  const map = /* @__PURE__ */ new Map();
  for (const [key, item] of store) map.set(key, new DataItem(item.label, engine.ItemValueType.valueOf(item.type)));
  return map;
}

// src/check/indicator-semantics.ts
function readIndicator(expression) {
  try {
    return parse(expression);
  } catch (e) {
    if (e instanceof Unreadable) return void 0;
    throw e;
  }
}
function indicatorProblem(tree, kind, universe) {
  try {
    const value = new Evaluator(universe).eval(tree);
    if (kind === "expression") castDouble(value);
    else castBoolean(value);
    return void 0;
  } catch (e) {
    if (e instanceof Rejected) return e.message;
    if (e instanceof Unreadable) return void 0;
    throw e;
  }
}
var Rejected = class extends Error {
};
var Unreadable = class extends Error {
};
var UNKNOWN = { t: "Unknown" };
var dbl = (v) => ({ t: "Double", v });
var bool = (v) => ({ t: "Boolean", v });
function javaDouble(n2) {
  return Number.isInteger(n2) && Math.abs(n2) < 1e7 ? n2.toFixed(1) : String(n2);
}
function shown(value) {
  switch (value.t) {
    case "Double":
      return `Double '${javaDouble(value.v)}'`;
    case "String":
      return value.v === void 0 ? "String" : `String '${value.v}'`;
    case "Boolean":
      return `Boolean '${value.v}'`;
    case "Date":
      return "Date";
    default:
      return value.t;
  }
}
var JAVA_DOUBLE = /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)[fFdD]?)$/;
function castDouble(value) {
  if (value.t === "Double" || value.t === "Null" || value.t === "Unknown") return;
  if (value.t === "String" && (value.v === void 0 || JAVA_DOUBLE.test(value.v.trim()))) return;
  throw new Rejected(`Could not cast ${shown(value)} to Double`);
}
function castBoolean(value) {
  if (value.t === "Boolean" || value.t === "Null" || value.t === "Unknown") return;
  if (value.t === "Double" && Number.isInteger(value.v)) return;
  if (value.t === "String" && (value.v === void 0 || /^(true|false)$/i.test(value.v))) return;
  throw new Rejected(`Could not cast ${shown(value)} to Boolean`);
}
var asDouble = (v) => v.t === "Double" || v.t === "String" && (v.v === void 0 || JAVA_DOUBLE.test(v.v.trim()));
var asBoolean = (v) => v.t === "Boolean" || v.t === "Double" && Number.isInteger(v.v) || v.t === "String" && (v.v === void 0 || /^(true|false)$/i.test(v.v));
function compare(l, r) {
  if (l.t === "Unknown" || r.t === "Unknown" || l.t === "Null" || r.t === "Null") return;
  if (l.t === "Date" || r.t === "Date") return;
  if ((l.t === "Double" || r.t === "Double") && asDouble(l) && asDouble(r)) return;
  if ((l.t === "Boolean" || r.t === "Boolean") && asBoolean(l) && asBoolean(r)) return;
  if (l.t === "String" || r.t === "String") return;
  throw new Rejected(`Could not compare ${shown(l)} to ${shown(r)}`);
}
function castLike(like, value) {
  if (like.t === "Double") castDouble(value);
  else if (like.t === "Boolean") castBoolean(value);
}
function substitute(valueType) {
  if (typeof valueType !== "string" || valueType === "") return UNKNOWN;
  if (NUMERIC_TYPES.has(valueType) || valueType === "BOOLEAN") return dbl(0);
  if (valueType === "TRUE_ONLY") return bool(false);
  if (DATE_TYPES.has(valueType)) return { t: "Date" };
  return { t: "String", v: "" };
}
var DATE_VARIABLES = /* @__PURE__ */ new Set([
  "analytics_period_end",
  "analytics_period_start",
  "creation_date",
  "current_date",
  "completed_date",
  "due_date",
  "enrollment_date",
  "execution_date",
  "event_date",
  "incident_date",
  "sync_date"
]);
var COUNT_VARIABLES = /* @__PURE__ */ new Set([
  "enrollment_count",
  "event_count",
  "org_unit_count",
  "tei_count",
  "value_count",
  "zero_pos_value_count"
]);
var TEXT_VARIABLES = /* @__PURE__ */ new Set(["enrollment_status", "event_status", "program_stage_id", "program_stage_name"]);
var NOT_PROGRAM_VARIABLES = /* @__PURE__ */ new Set([
  "enrollment_id",
  "environment",
  "event_id",
  "org_unit",
  "orgunit_code",
  "program_name"
]);
var DEFAULT_DATE = "2017-07-08";
var UID = "[A-Za-z][A-Za-z0-9]{10}";
var NUMBER = /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/y;
var STRING = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/y;
var EVENT_DATE = new RegExp(`PS_EVENTDATE:\\s*(${UID})`, "y");
var TWO_CHAR_OPS = /* @__PURE__ */ new Set(["&&", "||", "==", "!=", "<=", ">="]);
var ONE_CHAR_OPS = /* @__PURE__ */ new Set(["-", "+", "*", "/", "%", "^", "!", "<", ">", "(", ")", ",", "."]);
function unescape(s) {
  return s.replace(/\\(.)/g, (_, c) => ({ n: "\n", t: "	", r: "\r" })[c] ?? c);
}
var isDigit = (c) => c >= 48 && c <= 57;
var isWordStart = (c) => c >= 65 && c <= 90 || c >= 97 && c <= 122 || c === 95;
var isWord = (c) => isWordStart(c) || isDigit(c);
var ITEM_SIGILS = /* @__PURE__ */ new Set(["#", "A", "C", "V", "I", "D", "R", "N", "OUG"]);
function tokenize(text) {
  const out = [];
  const length = text.length;
  let at = 0;
  while (at < length) {
    const c = text.charCodeAt(at);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      at++;
      continue;
    }
    const start = at;
    const ch = text[at];
    if (isDigit(c) || c === 46 && isDigit(text.charCodeAt(at + 1))) {
      NUMBER.lastIndex = at;
      const m = NUMBER.exec(text);
      at += m[0].length;
      out.push({ t: "num", v: m[0], at: start, end: at });
    } else if (c === 39 || c === 34) {
      STRING.lastIndex = at;
      const m = STRING.exec(text);
      if (!m) throw new Unreadable(`unclosed string at ${at}`);
      at += m[0].length;
      out.push({ t: "str", v: unescape(m[1] ?? m[2] ?? ""), at: start, end: at });
    } else if (isWordStart(c) || c === 35) {
      let end = at + 1;
      while (end < length && isWord(text.charCodeAt(end))) end++;
      const word = text.slice(at, end);
      if (text.charCodeAt(end) === 123 && ITEM_SIGILS.has(word)) {
        const close = text.indexOf("}", end);
        if (close < 0) throw new Unreadable(`unclosed item at ${at}`);
        at = close + 1;
        out.push({ t: "item", v: text.slice(end + 1, close).trim(), sigil: word, at: start, end: at });
      } else if (word === "PS_EVENTDATE" && text[end] === ":") {
        EVENT_DATE.lastIndex = at;
        const m = EVENT_DATE.exec(text);
        if (!m) throw new Unreadable(`PS_EVENTDATE without a stage at ${at}`);
        at += m[0].length;
        out.push({ t: "item", v: m[1] ?? "", sigil: "PS_EVENTDATE", at: start, end: at });
      } else if (c === 35) {
        throw new Unreadable(`# without an item at ${at}`);
      } else if (word === "d2" && text[end] === ":") {
        let stop = end + 1;
        while (stop < length && isWordStart(text.charCodeAt(stop))) stop++;
        at = stop;
        out.push({ t: "name", v: text.slice(start, stop), at: start, end: at });
      } else {
        at = end;
        out.push({ t: "name", v: word, at: start, end: at });
      }
    } else if (ch === "[" && text.startsWith("[days]", at)) {
      at += 6;
      out.push({ t: "item", v: "days", sigil: "[", at: start, end: at });
    } else if ("&|=!<>".includes(ch) && TWO_CHAR_OPS.has(text.slice(at, at + 2))) {
      at += 2;
      out.push({ t: "op", v: text.slice(start, at), at: start, end: at });
    } else if (ONE_CHAR_OPS.has(ch)) {
      at++;
      out.push({ t: "op", v: ch, at: start, end: at });
    } else throw new Unreadable(`no token at ${at}`);
  }
  return out;
}
function parse(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const isOp = (...ops) => {
    const t = tokens[i];
    return t !== void 0 && (t.t === "op" || t.t === "name") && ops.includes(t.v);
  };
  const expect = (op) => {
    if (!isOp(op)) throw new Unreadable(`expected ${op}`);
    i++;
  };
  const binary = (next, ops, as = (o) => o) => () => {
    let l = next();
    while (isOp(...ops)) {
      const raw = tokens[i++].v;
      l = { k: "binary", op: as(raw), l, r: next(), raw };
    }
    return l;
  };
  const word = (o) => ({ and: "&&", or: "||" })[o] ?? o;
  const primary = () => {
    const t = tokens[i++];
    if (!t) throw new Unreadable("end of expression");
    if (t.t === "num") return { k: "num", v: Number(t.v), raw: t.v };
    if (t.t === "str") return { k: "str", v: t.v, raw: text.slice(t.at, t.end) };
    if (t.t === "item") return { k: "item", sigil: t.sigil ?? "", body: t.v, text: text.slice(t.at, t.end) };
    if (t.t === "op" && t.v === "(") {
      const e = or();
      expect(")");
      return { k: "paren", e };
    }
    if (t.t === "name") {
      if (t.v === "true" || t.v === "false") return { k: "bool", v: t.v === "true" };
      if (t.v === "null") return { k: "null" };
      expect("(");
      const args = [];
      if (!isOp(")")) {
        args.push(or());
        while (isOp(",")) {
          i++;
          args.push(or());
        }
      }
      expect(")");
      return { k: "call", name: t.v, args, text: text.slice(t.at, tokens[i - 1].end) };
    }
    throw new Unreadable(`unexpected ${t.v}`);
  };
  const postfix = () => {
    let e = primary();
    while (isOp(".")) {
      i++;
      const name = tokens[i++];
      if (name?.t !== "name") throw new Unreadable("expected a modifier");
      expect("(");
      const from = i;
      while (!isOp(")")) {
        if (!peek()) throw new Unreadable("unclosed modifier");
        i++;
      }
      const raw = tokens.slice(from, i).map((t) => text.slice(t.at, t.end)).join("");
      expect(")");
      e = { k: "offset", e, name: name.v, raw };
    }
    return e;
  };
  const power = () => {
    const l = postfix();
    if (isOp("^")) {
      i++;
      return { k: "binary", op: "^", l, r: unary(), raw: "^" };
    }
    return l;
  };
  const unary = () => {
    if (isOp("-", "+", "!", "not")) {
      const raw = tokens[i++].v;
      return { k: "unary", op: raw === "not" ? "!" : raw, e: unary(), raw };
    }
    return power();
  };
  const multiplicative = binary(unary, ["*", "/", "%"]);
  const additive = binary(multiplicative, ["+", "-"]);
  const relational = binary(additive, ["<", ">", "<=", ">="]);
  const equality = binary(relational, ["==", "!="]);
  const and = binary(equality, ["&&", "and"], word);
  const or = binary(and, ["||", "or"], word);
  const tree = or();
  if (i !== tokens.length) throw new Unreadable("trailing input");
  return tree;
}
var COUNT_FUNCTIONS = /* @__PURE__ */ new Set([
  "d2:count",
  "d2:countIfCondition",
  "d2:countIfValue",
  "d2:daysBetween",
  "d2:minutesBetween",
  "d2:monthsBetween",
  "d2:weeksBetween",
  "d2:yearsBetween",
  "d2:relationshipCount",
  "d2:zpvc"
]);
var AGGREGATIONS = /* @__PURE__ */ new Set(["avg", "count", "max", "min", "stddev", "sum", "variance"]);
var NOT_INDICATOR_FUNCTIONS = /* @__PURE__ */ new Set(["removeZeros", "contains", "containsItems", "normDistCum", "normDistDen"]);
var Evaluator = class {
  constructor(u) {
    this.u = u;
  }
  eval(node) {
    switch (node.k) {
      case "num":
        return dbl(node.v);
      case "str":
        return { t: "String", v: node.v };
      case "bool":
        return bool(node.v);
      case "null":
        return { t: "Null" };
      case "offset":
      case "paren":
        return this.eval(node.e);
      case "item":
        return this.item(node);
      case "call":
        return this.call(node);
      case "unary": {
        const v = this.eval(node.e);
        if (node.op === "!") {
          castBoolean(v);
          return bool(false);
        }
        castDouble(v);
        return dbl(0);
      }
      case "binary":
        return this.binary(node.op, this.eval(node.l), this.eval(node.r));
    }
  }
  binary(op, l, r) {
    if (op === "&&" || op === "||") {
      castBoolean(l);
      castBoolean(r);
      return bool(false);
    }
    if (["==", "!=", "<", ">", "<=", ">="].includes(op)) {
      compare(l, r);
      return bool(false);
    }
    castDouble(l);
    castDouble(r);
    return dbl(0);
  }
  item(node) {
    const { sigil, body } = node;
    switch (sigil) {
      case "#": {
        const parts = body.split(".").map((p) => p.trim());
        if (parts.length !== 2) throw new Rejected(`Invalid Program Stage / DataElement syntax: ${node.text}`);
        const [stage, de] = parts;
        if (stage === "*" || de === "*") return UNKNOWN;
        if (!this.u.stages.has(stage)) throw new Rejected(`Program stage ${stage} not found`);
        if (!this.u.dataElements.has(de)) throw new Rejected(`Data element ${de} not found`);
        return substitute(this.u.dataElements.get(de));
      }
      case "A": {
        if (body.includes(".")) return UNKNOWN;
        if (!this.u.attributes.has(body)) throw new Rejected(`Tracked entity attribute ${body} not found.`);
        return substitute(this.u.attributes.get(body));
      }
      case "C":
        if (!this.u.constants.has(body)) throw new Rejected(`No constant defined for ${body}`);
        return dbl(0);
      case "V":
        if (DATE_VARIABLES.has(body)) return { t: "String", v: DEFAULT_DATE };
        if (COUNT_VARIABLES.has(body)) return dbl(1);
        if (TEXT_VARIABLES.has(body)) return { t: "String" };
        if (NOT_PROGRAM_VARIABLES.has(body)) throw new Rejected(`Can't find program variable ${body}`);
        return UNKNOWN;
      case "PS_EVENTDATE":
        if (!this.u.stages.has(body)) throw new Rejected(`Program stage ${body} not found`);
        return { t: "Date" };
      default:
        throw new Rejected(`Item ${node.text} not supported for this type of expression`);
    }
  }
  call(node) {
    const { name, args } = node;
    if (NOT_INDICATOR_FUNCTIONS.has(name)) {
      throw new Rejected(`Item ${node.text} not supported for this type of expression`);
    }
    if (name === "d2:condition") {
      const [test, ifTrue, ifFalse] = args;
      if (test?.k === "str") {
        let sub;
        try {
          sub = parse(test.v);
        } catch (e) {
          if (!(e instanceof Unreadable)) throw e;
        }
        if (sub) castBoolean(this.eval(sub));
      } else if (test) this.eval(test);
      const a = ifTrue ? this.eval(ifTrue) : UNKNOWN;
      if (ifFalse) castLike(a, this.eval(ifFalse));
      return a;
    }
    const values = args.map((a) => name === "d2:countIfCondition" && a.k === "str" ? UNKNOWN : this.eval(a));
    if (name === "d2:countIfValue" && values.length === 2) castLike(values[0], values[1]);
    if (COUNT_FUNCTIONS.has(name)) return dbl(1);
    if (name === "d2:hasValue") return bool(false);
    if (name === "d2:minValue" || name === "d2:maxValue") return values[0] ?? UNKNOWN;
    if (name === "d2:zing" || name === "d2:oizp" || name === "log" || name === "log10") {
      values.forEach(castDouble);
      return dbl(0);
    }
    if (AGGREGATIONS.has(name)) return dbl(0);
    if (name === "isNull" || name === "isNotNull") return bool(false);
    if (name === "firstNonNull") return values.find((v) => v.t !== "Null") ?? { t: "Null" };
    if (name === "greatest" || name === "least") return values.every((v) => v.t === "Double") ? dbl(0) : UNKNOWN;
    if (name === "if") {
      const [c, a, b] = values;
      if (c) castBoolean(c);
      return a && b && a.t === b.t ? a : UNKNOWN;
    }
    return UNKNOWN;
  }
};
var n = (min, max = min) => (a) => a.length >= min && a.length <= max;
var isItem = (node, ...sigils) => node?.k === "item" && sigils.includes(node.sigil);
var isStr = (node) => node?.k === "str";
var JS_FUNCTIONS = keyTable({
  firstNonNull: n(1, 99),
  greatest: n(1, 99),
  least: n(1, 99),
  if: n(3),
  isNull: n(1),
  isNotNull: n(1),
  log: n(1, 2),
  log10: n(1),
  "d2:condition": (a) => a.length === 3 && isStr(a[0]),
  "d2:count": (a) => a.length === 1 && isItem(a[0], "#"),
  "d2:countIfValue": (a) => a.length === 2 && isItem(a[0], "#"),
  "d2:countIfCondition": (a) => a.length === 2 && isItem(a[0], "#") && isStr(a[1]),
  "d2:daysBetween": n(2),
  "d2:minutesBetween": n(2),
  "d2:monthsBetween": n(2),
  "d2:weeksBetween": n(2),
  "d2:yearsBetween": n(2),
  "d2:hasValue": (a) => a.length === 1 && isItem(a[0], "#", "A", "V"),
  "d2:minValue": (a) => a.length === 1 && isItem(a[0], "#", "A", "V"),
  "d2:maxValue": (a) => a.length === 1 && isItem(a[0], "#", "A", "V"),
  "d2:oizp": n(1),
  "d2:zing": n(1),
  "d2:zpvc": n(1, 99),
  "d2:relationshipCount": (a) => a.length === 0 || a.length === 1 && a[0]?.k === "str" && UID_ONLY.test(a[0].v),
  avg: n(1),
  count: n(1),
  max: n(1),
  min: n(1),
  stddev: n(1),
  sum: n(1)
});
var UID_ONLY = new RegExp(`^${UID}$`);
var STAGE_ELEMENT = new RegExp(`^${UID}\\.${UID}$`);
var JS_VARIABLES = /* @__PURE__ */ new Set([
  ...DATE_VARIABLES,
  ...COUNT_VARIABLES,
  ...TEXT_VARIABLES,
  ...NOT_PROGRAM_VARIABLES,
  "scheduled_event_count",
  "scheduled_date"
]);
var sure = /* @__PURE__ */ new WeakMap();
function surelyParses(tree) {
  let known = sure.get(tree);
  if (known === void 0) sure.set(tree, known = inSubset(tree));
  return known;
}
function inSubset(tree) {
  const ok = (node) => {
    switch (node.k) {
      case "num":
      case "bool":
      case "null":
        return true;
      case "str":
        return node.raw.startsWith("'");
      // the JS parser's describe() writes "x" as 'x'
      case "paren":
        return ok(node.e);
      case "offset":
        return node.name === "stageOffset" && /^-?\d+$/.test(node.raw) && isItem(node.e, "#");
      // The word operators (and, or, not) are described in another form.
      case "unary":
        return node.raw !== "not" && ok(node.e);
      case "binary":
        return node.raw !== "and" && node.raw !== "or" && ok(node.l) && ok(node.r);
      case "item":
        if (node.sigil === "#") return STAGE_ELEMENT.test(node.body);
        if (node.sigil === "A" || node.sigil === "C") return UID_ONLY.test(node.body);
        if (node.sigil === "V") return JS_VARIABLES.has(node.body);
        return false;
      case "call": {
        const shape = JS_FUNCTIONS[node.name];
        return shape !== void 0 && shape(node.args) && node.args.every(ok);
      }
    }
  };
  return ok(tree);
}
function describeIndicator(tree, names) {
  const name = (uid) => names.get(uid) ?? uid;
  const out = (node) => {
    switch (node.k) {
      case "num":
      case "str":
        return node.raw;
      case "bool":
        return String(node.v);
      case "null":
        return "null";
      case "paren":
        return `(${out(node.e)})`;
      case "offset":
        return `${out(node.e)}.${node.name}(${node.raw})`;
      case "unary":
        return `${node.op}${out(node.e)}`;
      case "binary":
        return `${out(node.l)} ${node.op} ${out(node.r)}`;
      case "item":
        if (node.sigil === "#") return `#{${node.body.split(".").map(name).join(".")}}`;
        if (node.sigil === "A" || node.sigil === "C") return `${node.sigil}{${name(node.body)}}`;
        return node.text;
      case "call":
        if (node.name === "d2:relationshipCount" && node.args[0]?.k === "str")
          return `${node.name}(${name(node.args[0].v)})`;
        return `${node.name}(${node.args.map(out).join(",")})`;
    }
  };
  return out(tree);
}
function stageElements(tree) {
  const found = [];
  const walk = (node) => {
    if (node.k === "item" && node.sigil === "#") {
      const [stage, de] = node.body.split(".");
      if (stage !== void 0 && de !== void 0) found.push([stage.trim(), de.trim()]);
    } else if (node.k === "paren" || node.k === "offset" || node.k === "unary") walk(node.e);
    else if (node.k === "binary") {
      walk(node.l);
      walk(node.r);
    } else if (node.k === "call") node.args.forEach(walk);
  };
  walk(tree);
  return found;
}

// src/util/turn-cache.ts
var TurnCache = class {
  constructor(maxPerTurn) {
    this.maxPerTurn = maxPerTurn;
  }
  current = /* @__PURE__ */ new Map();
  previous = /* @__PURE__ */ new Map();
  get(key) {
    const value = this.current.get(key);
    if (value !== void 0 || this.current.has(key)) return value;
    if (!this.previous.has(key)) return void 0;
    const carried = this.previous.get(key);
    this.set(key, carried);
    return carried;
  }
  set(key, value) {
    if (!this.current.has(key) && this.current.size >= this.maxPerTurn) this.turn();
    this.current.set(key, value);
  }
  /** Starts a turn: what the last turn used stays for this one, the turn before that goes. */
  turn() {
    this.previous = this.current;
    this.current = /* @__PURE__ */ new Map();
  }
  get size() {
    return this.current.size + this.previous.size;
  }
};

// src/check/validate-expressions.ts
var WARNINGS_ONLY = /^0 error\(s\), \d+ warning\(s\)$/;
function verdictOf(result) {
  if (result.valid) return { valid: true, severity: null, message: null, description: result.description ?? null };
  const message = result.errorMessage ?? result.exception?.message ?? "Expression is not valid";
  return { valid: false, severity: WARNINGS_ONLY.test(message) ? "warning" : "error", message, description: null };
}
var ruleVerdicts = new TurnCache(5e3);
function newChecksTurn() {
  parsedIndicators.turn();
  trees.turn();
}
function validateProgramExpressions(engines2, model) {
  const { rules: re } = engines2;
  const engine = new re.RuleEngineJs(false);
  const plain = itemStore(model);
  const keys = [...plain.keys()];
  let engineStore;
  const ask = (kind, text) => {
    const named = keys.filter((k) => text.includes(k)).sort();
    const key = `${kind}\0${text}\0${named.map((k) => `${k}${plain.get(k)?.label}${plain.get(k)?.type}`).join("")}`;
    let verdict = ruleVerdicts.get(key);
    if (verdict === void 0) {
      engineStore ??= engineItemStore(re, plain);
      const store = new Map(named.map((k) => [k, engineStore.get(k)]));
      verdict = verdictOf(
        kind === "condition" ? engine.validate(text, store) : engine.validateDataFieldExpression(text, store)
      );
      ruleVerdicts.set(key, verdict);
    }
    return verdict;
  };
  const verdicts = [];
  for (const rule of model.rules) {
    const id = String(rule.id);
    const condition = str(rule.condition) ?? "";
    verdicts.push({
      type: "programRuleCondition",
      id,
      expression: condition,
      ...ask("condition", condition),
      rule: id
    });
    for (const action of model.actionsByRule.get(id) ?? []) {
      const type = str(action.programRuleActionType) ?? "";
      const text = str(action.data);
      if (text === void 0 || text.trim() === "") continue;
      verdicts.push({
        type: "programRuleActionData",
        id: String(action.id),
        expression: text,
        ...ask("data", text),
        actionType: type,
        rule: id
      });
    }
  }
  for (const indicator of model.indicators) {
    for (const [key, type] of [
      ["expression", "programIndicatorExpression"],
      ["filter", "programIndicatorFilter"]
    ]) {
      const expression = str(indicator[key]);
      if (expression === void 0 || expression.trim() === "") continue;
      verdicts.push({
        type,
        id: String(indicator.id),
        expression,
        ...indicatorVerdict(engines2, model, expression, key)
      });
    }
  }
  return verdicts;
}
function indicatorNames(model) {
  const names = /* @__PURE__ */ new Map();
  const name = (o) => str(o?.displayName) ?? str(o?.name);
  for (const s of model.stages) names.set(String(s.id), name(s) ?? String(s.id));
  for (const [id, de] of model.dataElements) names.set(id, name(de) ?? id);
  for (const [id, a] of model.attributes) names.set(id, name(a) ?? id);
  for (const c of model.constants) names.set(String(c.id), name(c) ?? String(c.id));
  return names;
}
var namesCache = /* @__PURE__ */ new WeakMap();
var parsedIndicators = new TurnCache(5e3);
function asJsGrammar(expression) {
  if (!expression.includes("variance") && !expression.includes("PS_EVENTDATE")) return expression;
  return expression.replace(/(?<![A-Za-z0-9_:])variance(\s*\()/g, "stddev$1").replace(/(?<!d2:(?:minValue|maxValue)\(\s*)PS_EVENTDATE:\s*[A-Za-z][A-Za-z0-9]{10}/g, "V{event_date}");
}
function parseIndicatorExpression(engines2, expression) {
  let parsed = parsedIndicators.get(expression);
  if (parsed === void 0) {
    const { ExpressionJs, ExpressionMode } = engines2.expressions;
    try {
      parsed = new ExpressionJs(asJsGrammar(expression), ExpressionMode.PROGRAM_INDICATOR_EXPRESSION);
    } catch (e) {
      parsed = e;
    }
    parsedIndicators.set(expression, parsed);
  }
  if (parsed instanceof Error) throw parsed;
  return parsed;
}
var universes = /* @__PURE__ */ new WeakMap();
function universeOf(model) {
  let u = universes.get(model);
  if (!u) {
    const types = (m) => new Map([...m].map(([id, o]) => [id, o.valueType]));
    u = {
      stages: model.fileStages,
      dataElements: types(model.dataElements),
      attributes: types(model.attributes),
      constants: new Set(model.constants.map((c) => String(c.id)))
    };
    universes.set(model, u);
  }
  return u;
}
var trees = new TurnCache(2e4);
function indicatorsNeedParser(models) {
  return models.some(
    (model) => model.indicators.some(
      (indicator) => [indicator.expression, indicator.filter].some((text) => {
        if (typeof text !== "string" || text.trim() === "") return false;
        const tree = indicatorTree(text);
        return tree === void 0 || !surelyParses(tree);
      })
    )
  );
}
function indicatorTree(expression) {
  let tree = trees.get(expression);
  if (tree === void 0) {
    tree = readIndicator(expression) ?? null;
    trees.set(expression, tree);
  }
  return tree ?? void 0;
}
function indicatorVerdict(engines2, model, expression, kind) {
  try {
    const tree = indicatorTree(expression);
    const parsed = tree !== void 0 && surelyParses(tree) ? void 0 : parseIndicatorExpression(engines2, expression);
    const problem = tree ? indicatorProblem(tree, kind, universeOf(model)) : void 0;
    if (problem !== void 0) return { valid: false, severity: "error", message: problem, description: null };
    let names = namesCache.get(model);
    if (!names) namesCache.set(model, names = indicatorNames(model));
    const description = parsed ? parsed.describe(names) : describeIndicator(tree, names);
    return { valid: true, severity: null, message: null, description };
  } catch (e) {
    return { valid: false, severity: "error", message: e.message, description: null };
  }
}

// src/check/references.ts
function label(o) {
  return `"${str(o?.name) ?? str(o?.displayName) ?? String(o?.id ?? "?")}"`;
}
function checkReferences(engines2, model) {
  const problems = [];
  const stageIds = new Set(model.stages.map((s) => String(s.id)));
  for (const v of model.variables) {
    const id = String(v.id);
    const type = sourceType(v);
    const where = `rule variable ${label(v)}`;
    if (isDataElementSource(type)) {
      const de = refId(v.dataElement);
      if (!de) {
        problems.push({
          objectType: "programRuleVariable",
          id,
          key: "programRuleVariableSourceType",
          message: `${where} (${type}) has no data element`
        });
      } else if (!model.dataElements.has(de)) {
        problems.push({
          objectType: "programRuleVariable",
          id,
          key: "dataElement",
          message: `${where} reads data element ${de}, which is not in the file`
        });
      }
    }
    if (type === "TEI_ATTRIBUTE") {
      const a = refId(v.trackedEntityAttribute);
      if (!a) {
        problems.push({
          objectType: "programRuleVariable",
          id,
          key: "programRuleVariableSourceType",
          message: `${where} (TEI_ATTRIBUTE) has no tracked entity attribute`
        });
      } else if (!model.attributes.has(a)) {
        problems.push({
          objectType: "programRuleVariable",
          id,
          key: "trackedEntityAttribute",
          message: `${where} reads tracked entity attribute ${a}, which is not in the file`
        });
      }
    }
    const stage = refId(v.programStage);
    if (type === "DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE" && !stage) {
      problems.push({
        objectType: "programRuleVariable",
        id,
        key: "programRuleVariableSourceType",
        message: `${where} (${type}) has no program stage`
      });
    } else if (stage && !stageIds.has(stage)) {
      problems.push({
        objectType: "programRuleVariable",
        id,
        key: "programStage",
        message: `${where} names program stage ${stage}, which is not a stage of the program in the file`
      });
    }
  }
  for (const rule of model.rules) {
    const id = String(rule.id);
    const stage = refId(rule.programStage);
    if (stage && !stageIds.has(stage)) {
      problems.push({
        objectType: "programRule",
        id,
        key: "programStage",
        rule: id,
        message: `program stage ${stage} is not a stage of the program in the file`
      });
    }
    for (const action of model.actionsByRule.get(id) ?? []) checkAction(model, rule, action, stageIds, problems);
  }
  for (const { rule, id } of model.missingActions) {
    problems.push({
      objectType: "programRule",
      id: String(rule.id),
      key: "programRuleActions",
      rule: String(rule.id),
      message: `action ${id} is not in the file`
    });
  }
  for (const indicator of model.indicators) {
    const id = String(indicator.id);
    for (const key of ["expression", "filter"]) {
      const text = str(indicator[key]);
      if (!text?.trim()) continue;
      const pairs = stageElementsOf(engines2, text);
      for (const [stageId, deId] of pairs ?? []) {
        if (stageId !== "*" && model.fileStages.has(stageId) && !stageIds.has(stageId)) {
          problems.push({
            objectType: "programIndicator",
            id,
            key,
            message: `#{${stageId}.${deId}}: program stage ${stageId} is not a stage of the program in the file`
          });
        }
      }
    }
  }
  return problems;
}
function stageElementsOf(engines2, text) {
  const tree = indicatorTree(text);
  if (tree !== void 0 && surelyParses(tree)) return stageElements(tree);
  try {
    const { DataItemType } = engines2.expressions;
    return parseIndicatorExpression(engines2, text).collectDataItems().filter((item) => item.type === DataItemType.DATA_ELEMENT && item.uid1[0] !== void 0).map((item) => [item.uid0.value, item.uid1[0].value]);
  } catch {
    return void 0;
  }
}
function checkAction(model, rule, action, stageIds, problems) {
  const id = String(action.id);
  const ruleId = String(rule.id);
  const type = str(action.programRuleActionType) ?? "?";
  const push = (key, message) => problems.push({ objectType: "programRuleAction", id, key, rule: ruleId, message: `${type} action: ${message}` });
  const de = refId(action.dataElement);
  if (de && !model.dataElements.has(de)) push("dataElement", `data element ${de} is not in the file`);
  const attr = refId(action.trackedEntityAttribute);
  if (attr && !model.attributes.has(attr))
    push("trackedEntityAttribute", `tracked entity attribute ${attr} is not in the file`);
  const section = refId(action.programStageSection);
  if (section && !model.sections.has(section))
    push("programStageSection", `program stage section ${section} is not in the file`);
  const stage = refId(action.programStage);
  if (stage && !stageIds.has(stage))
    push("programStage", `program stage ${stage} is not a stage of the program in the file`);
  const option = refId(action.option);
  if (option && !model.options.has(option)) push("option", `option ${option} is not in the file`);
  const group = refId(action.optionGroup);
  if (group && !model.optionGroups.has(group)) push("optionGroup", `option group ${group} is not in the file`);
  const templateKey = action.templateUid !== void 0 ? "templateUid" : "programNotificationTemplate";
  const template = str(action.templateUid) ?? refId(action.programNotificationTemplate);
  if (template && !model.notificationTemplates.has(template))
    push(templateKey, `notification template ${template} is not in the file`);
  const legendSet = refId(action.legendSet);
  if (legendSet && !model.legendSets.has(legendSet)) push("legendSet", `legend set ${legendSet} is not in the file`);
  const needsField = [
    "ASSIGN",
    "HIDEFIELD",
    "SETMANDATORYFIELD",
    "CREATEEVENT",
    "HIDEOPTION",
    "HIDEOPTIONGROUP",
    "SHOWOPTIONGROUP"
  ];
  if (needsField.includes(type) && !de && !attr && !(type === "ASSIGN" && str(action.content))) {
    push("programRuleActionType", "names no data element or attribute");
  }
  const base = ["HIDEFIELD", "SETMANDATORYFIELD", "CREATEEVENT", "HIDEOPTIONGROUP", "SHOWOPTIONGROUP"];
  if (base.includes(type) && de && model.dataElements.has(de) && !model.stageDataElements.has(de)) {
    push("dataElement", `data element ${de} is on no stage of the program (the import refuses it: E4047)`);
  } else if (base.includes(type) && !de && attr && model.attributes.has(attr) && !model.programAttributes.has(attr)) {
    push(
      "trackedEntityAttribute",
      `tracked entity attribute ${attr} is not an attribute of the program (the import refuses it: E4048)`
    );
  }
  if (type === "HIDESECTION" && !section) push("programRuleActionType", "names no program stage section");
  if (type === "HIDEOPTION" && !option) push("programRuleActionType", "names no option");
  if ((type === "HIDEOPTIONGROUP" || type === "SHOWOPTIONGROUP") && !group)
    push("programRuleActionType", "names no option group");
  if ((type === "SENDMESSAGE" || type === "SCHEDULEMESSAGE") && !template)
    push("programRuleActionType", "names no notification template");
  if (type === "HIDEPROGRAMSTAGE" && !stage) push("programRuleActionType", "names no program stage");
  if (type === "SCHEDULEEVENT") {
    if (!stage) push("programRuleActionType", "names no program stage to schedule (the import refuses it: E4038)");
    if (!model.withRegistration)
      push(
        "programRuleActionType",
        "schedules an event in a program without registration (the import refuses it: E4083)"
      );
  }
}

// src/check/rule-context.ts
var RULE_VALUE_TYPES = keyTable({
  BOOLEAN: "BOOLEAN",
  TRUE_ONLY: "BOOLEAN",
  DATE: "DATE",
  DATETIME: "DATE",
  AGE: "DATE",
  INTEGER: "NUMERIC",
  INTEGER_POSITIVE: "NUMERIC",
  INTEGER_NEGATIVE: "NUMERIC",
  INTEGER_ZERO_OR_POSITIVE: "NUMERIC",
  NUMBER: "NUMERIC",
  PERCENTAGE: "NUMERIC"
});
var ACTION_REFERENCES = {
  dataElement: "dataElementId",
  trackedEntityAttribute: "trackedEntityAttributeId",
  programStageSection: "programStageSectionId",
  programStage: "programStageId",
  option: "optionId",
  optionGroup: "optionGroupId"
};
var ACTION_TEXTS = ["id", "content", "displayContent", "location", "templateUid"];
function actionValues(action) {
  const values = /* @__PURE__ */ new Map();
  for (const key of ACTION_TEXTS) {
    const v = str(action[key]);
    if (v !== void 0) values.set(key, v);
  }
  for (const [key, name] of Object.entries(ACTION_REFERENCES)) {
    const id = refId(action[key]);
    if (id) values.set(name, id);
  }
  const template = refId(action.programNotificationTemplate);
  if (template && !values.has("templateUid")) values.set("templateUid", template);
  return values;
}
function convertAction(re, action) {
  const type = str(action.programRuleActionType) ?? "";
  const data = str(action.data) ?? null;
  if (type !== "ASSIGN") return [new re.RuleActionJs(data, type, actionValues(action))];
  const out = [];
  const de = refId(action.dataElement);
  const attr = refId(action.trackedEntityAttribute);
  const content = str(action.content);
  const base = actionValues(action);
  if (de)
    out.push(new re.RuleActionJs(data, type, new Map([...base, ["field", de], ["attributeType", "DATA_ELEMENT"]])));
  if (attr) {
    out.push(
      new re.RuleActionJs(
        data,
        type,
        new Map([...base, ["field", attr], ["attributeType", "TRACKED_ENTITY_ATTRIBUTE"]])
      )
    );
  }
  if (content)
    out.push(new re.RuleActionJs(data, type, new Map([...base, ["content", content], ["attributeType", "UNKNOWN"]])));
  return out;
}
function optionsOf(re, model, field) {
  const set = model.optionSets.get(refId(field?.optionSet) ?? "");
  const refs = Array.isArray(set?.options) ? set.options : [];
  return refs.map((r) => model.options.get(refId(r) ?? "")).filter((o) => o !== void 0).map((o) => new re.Option(str(o.displayName) ?? str(o.name) ?? "", str(o.code) ?? ""));
}
function convertVariable(re, model, v) {
  const type = sourceType(v);
  const known = isDataElementSource(type) || type === "TEI_ATTRIBUTE" ? type : "CALCULATED_VALUE";
  const fieldObject = variableField(model, v);
  const field = isDataElementSource(known) ? refId(v.dataElement) ?? "" : known === "TEI_ATTRIBUTE" ? refId(v.trackedEntityAttribute) ?? "" : "";
  const valueType = RULE_VALUE_TYPES[String(variableValueType(model, v) ?? "")] ?? "TEXT";
  return new re.RuleVariableJs(
    re.RuleVariableType.valueOf(known),
    str(v.name) ?? str(v.displayName) ?? "",
    v.useCodeForOptionSet === true,
    known === "CALCULATED_VALUE" ? [] : optionsOf(re, model, fieldObject),
    field,
    re.RuleValueType.valueOf(valueType),
    refId(v.programStage) ?? null
  );
}
function ruleEngineContext(re, model) {
  const rules2 = model.rules.map((rule) => {
    const actions = (model.actionsByRule.get(String(rule.id)) ?? []).flatMap((a) => convertAction(re, a));
    const priority = typeof rule.priority === "number" ? rule.priority : null;
    return new re.RuleJs(
      str(rule.condition) ?? "",
      actions,
      String(rule.id),
      str(rule.displayName) ?? str(rule.name) ?? null,
      refId(rule.programStage) ?? null,
      priority
    );
  });
  const variables = model.variables.map((v) => convertVariable(re, model, v));
  const constants = /* @__PURE__ */ new Map();
  for (const c of model.constants) {
    const value = c.value === void 0 || c.value === null ? void 0 : String(c.value);
    if (value === void 0) continue;
    if (typeof c.id === "string") constants.set(c.id, value);
    const name = str(c.displayName) ?? str(c.name);
    if (name) constants.set(name, value);
  }
  return new re.RuleEngineContextJs(rules2, variables, /* @__PURE__ */ new Map(), constants);
}

// src/check/run-rule-tests.ts
var ORG_UNIT = "DiszpKrYNg8";
var DAY = 864e5;
function isoDate(text, what) {
  if (text === void 0) return void 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (Number.isNaN(ms)) throw new CaseError(`${what} "${text}" is not a date (YYYY-MM-DD)`);
  return ms;
}
var localDate = (ms) => ({ toEpochDay: () => Math.floor(ms / DAY) });
var instant = (ms) => ({ toEpochMilli: () => ms + DAY / 2 });
var CaseError = class extends Error {
};
function resolve(objects, key) {
  const list = [...objects];
  const lower = key.toLowerCase();
  return list.find((o) => o.id === key) ?? list.find((o) => str(o.code) === key) ?? list.find(
    (o) => [o.name, o.shortName, o.formName, o.displayName].some((n2) => typeof n2 === "string" && n2.toLowerCase() === lower)
  );
}
var CaseContext = class {
  constructor(model, re) {
    this.model = model;
    this.re = re;
  }
  stage(key) {
    const s = resolve(this.model.stages, key);
    if (!s) throw new CaseError(`stage "${key}" is not a stage of program ${this.model.id} (give its uid or name)`);
    return s;
  }
  dataElement(key) {
    const own = [...this.model.stageDataElements].map((id) => this.model.dataElements.get(id)).filter(Boolean);
    const de = resolve(own, key) ?? resolve(this.model.dataElements.values(), key);
    if (!de) throw new CaseError(`data element "${key}" is not in the file (give its uid, code or name)`);
    return de;
  }
  attribute(key) {
    const own = [...this.model.programAttributes].map((id) => this.model.attributes.get(id)).filter(Boolean);
    const a = resolve(own, key) ?? resolve(this.model.attributes.values(), key);
    if (!a) throw new CaseError(`tracked entity attribute "${key}" is not in the file (give its uid, code or name)`);
    return a;
  }
  /** A value as stored: an option's code when the field has an option set and the value names an option. */
  value(field, raw) {
    const text = String(raw);
    const set = this.model.optionSets.get(refId(field.optionSet) ?? "");
    if (!set || !Array.isArray(set.options)) return text;
    const options = set.options.map((r) => this.model.options.get(refId(r) ?? "")).filter(Boolean);
    if (options.some((o) => str(o?.code) === text)) return text;
    return str(resolve(options, text)?.code) ?? text;
  }
  event(spec, id, fallbackStage, fallbackDate) {
    const { re } = this;
    const stageKey = spec.stage ?? fallbackStage ?? (this.model.stages.length === 1 ? String(this.model.stages[0]?.id) : void 0);
    if (!stageKey)
      throw new CaseError(`event ${id} needs a stage (the program has ${this.model.stages.length} stages)`);
    const stage = this.stage(stageKey);
    const date = isoDate(spec.date, "event date") ?? fallbackDate;
    const due = isoDate(spec.dueDate, "due date");
    const dataValues = Object.entries(spec.values).map(([k, v]) => {
      const de = this.dataElement(k);
      return new re.RuleDataValue(String(de.id), this.value(de, v));
    });
    const status = (spec.status ?? "ACTIVE").toUpperCase();
    return new re.RuleEventJs(
      id,
      String(stage.id),
      str(stage.name) ?? "",
      re.RuleEventStatus.valueOf(status),
      instant(date),
      instant(date),
      due === void 0 ? null : localDate(due),
      status === "COMPLETED" ? localDate(date) : null,
      ORG_UNIT,
      null,
      dataValues
    );
  }
};
function effectOf(effect) {
  const v = effect.ruleAction.values;
  const type = effect.ruleAction.type;
  const get = (k) => v.get(k) ?? void 0;
  return {
    action: type,
    rule: effect.ruleId,
    field: get("field") ?? get("dataElementId") ?? get("trackedEntityAttributeId"),
    section: get("programStageSectionId"),
    stage: get("programStageId"),
    option: get("optionId"),
    optionGroup: get("optionGroupId"),
    content: get("content"),
    data: effect.data ?? void 0
  };
}
function sameValue(a, b) {
  if (a === void 0) return false;
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return a.trim() !== "" && b.trim() !== "" && !Number.isNaN(x) && !Number.isNaN(y) && x === y;
}
function matches(ctx, spec, effect) {
  if (spec.action !== effect.action) return false;
  const { model } = ctx;
  const refMatches = (key, uid, objects) => key === void 0 || uid !== void 0 && (uid === key || resolve(objects, key)?.id === uid);
  if (!refMatches(spec.field, effect.field, [...model.dataElements.values(), ...model.attributes.values()]))
    return false;
  if (!refMatches(spec.section, effect.section, model.sections.values())) return false;
  if (!refMatches(spec.stage, effect.stage, model.stages)) return false;
  if (!refMatches(spec.option, effect.option, model.options.values())) return false;
  if (!refMatches(spec.optionGroup, effect.optionGroup, model.optionGroups.values())) return false;
  if (spec.content !== void 0) {
    const shown2 = [effect.content, effect.data].filter(Boolean).join(" ").toLowerCase();
    if (!shown2.includes(spec.content.toLowerCase())) return false;
  }
  if (spec.value !== void 0 && !sameValue(effect.data, spec.value)) return false;
  return true;
}
function strip(spec) {
  const { line: _line, ...rest } = spec;
  return rest;
}
function capturingErrors(fn) {
  const errors = [];
  const original = console.error;
  console.error = (...args) => {
    errors.push(args.map(String).join(" "));
  };
  try {
    return { result: fn(), errors };
  } finally {
    console.error = original;
  }
}
function potentialEffects(model, ruleId) {
  return (model.actionsByRule.get(ruleId) ?? []).map((a) => ({
    action: str(a.programRuleActionType) ?? "",
    rule: ruleId,
    field: refId(a.dataElement) ?? refId(a.trackedEntityAttribute),
    section: refId(a.programStageSection),
    stage: refId(a.programStage),
    option: refId(a.option),
    optionGroup: refId(a.optionGroup)
  }));
}
function ruleOfError(message) {
  return /with id (\S+) executed for/.exec(message)?.[1];
}
function runCase(re, model, context, file, spec) {
  const ctx = new CaseContext(model, re);
  const base = {
    file,
    name: spec.name,
    program: model.id,
    line: spec.line
  };
  try {
    const today = Date.UTC((/* @__PURE__ */ new Date()).getUTCFullYear(), (/* @__PURE__ */ new Date()).getUTCMonth(), (/* @__PURE__ */ new Date()).getUTCDate());
    const eventDate = isoDate(spec.event?.date, "event date");
    let enrollment = null;
    if (model.withRegistration) {
      const e = spec.enrollment;
      const enrolled = isoDate(e?.enrollmentDate, "enrollmentDate") ?? eventDate ?? today;
      const incident = isoDate(e?.incidentDate, "incidentDate") ?? enrolled;
      const attributes = Object.entries(e?.attributes ?? {}).map(([k, v]) => {
        const a = ctx.attribute(k);
        return new re.RuleAttributeValue(String(a.id), ctx.value(a, v));
      });
      enrollment = new re.RuleEnrollmentJs(
        "enrollment1",
        model.name,
        localDate(incident),
        localDate(enrolled),
        re.RuleEnrollmentStatus.valueOf((e?.status ?? "ACTIVE").toUpperCase()),
        ORG_UNIT,
        null,
        attributes
      );
    } else if (spec.enrollment) {
      throw new CaseError(`program ${model.id} is an event program: a case has no enrollment`);
    }
    const events = spec.events.map((e, i) => ctx.event(e, `event${i + 1}`, void 0, today));
    const evaluateEvent = spec.event !== void 0 || spec.stage !== void 0 || !model.withRegistration;
    const { result, errors } = capturingErrors(() => {
      if (evaluateEvent) {
        const target = ctx.event(spec.event ?? { values: {} }, "current", spec.stage, eventDate ?? today);
        return new re.RuleEngineJs(false).evaluateEvent(target, enrollment, events, context);
      }
      return new re.RuleEngineJs(false).evaluateEnrollment(enrollment, events, context);
    });
    const effects = result.map(effectOf);
    const relevant = (message) => {
      const rule = ruleOfError(message);
      if (!rule) return true;
      const about = [...spec.expect, ...spec.forbid].map((s) => ({ ...s, content: void 0, value: void 0 }));
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
function runTestFile(re, model, test) {
  const context = ruleEngineContext(re, model);
  return test.cases.map((c) => runCase(re, model, context, test.file, c));
}

// src/util/closest.ts
function closest(word, candidates) {
  const lower = word.toLowerCase();
  let best;
  for (const name of candidates) {
    const distance = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return void 0;
  return best.distance <= Math.min(3, Math.max(1, Math.floor(word.length / 3))) ? best.name : void 0;
}
function editDistance(a, b) {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_2, j) => i === 0 ? j : j === 0 ? i : 0)
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

// src/check/run-checks.ts
var TYPE_LABEL = {
  programRuleCondition: "condition",
  programRuleActionData: "action data",
  programIndicatorExpression: "indicator expression",
  programIndicatorFilter: "indicator filter"
};
var TYPE_KEY = {
  programRuleCondition: "condition",
  programRuleActionData: "data",
  programIndicatorExpression: "expression",
  programIndicatorFilter: "filter"
};
function oneLine(text, max = 300) {
  const flat = text.replace(/\s*\n\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}\u2026` : flat;
}
function modelOf(input) {
  const model = programModel(input.doc, input.id);
  if (!model.program) {
    throw new ConfigError(`program ${input.id} is not in ${input.file} (its programs[] has no object with that id)`, {
      file: input.file
    });
  }
  return model;
}
async function checkProgram(input, tests2) {
  newChecksTurn();
  const model = modelOf(input);
  const engines2 = await loadEngines({ expressionParser: indicatorsNeedParser([model]) });
  const started = performance.now();
  const expressions = validateProgramExpressions(engines2, model);
  const references = checkReferences(engines2, model);
  const results = tests2.filter((t) => t.program === input.id).flatMap((t) => runTestFile(engines2.rules, model, t));
  const engineMs = performance.now() - started;
  const report = { id: input.id, name: model.name, file: input.file, expressions, references, tests: results };
  return { report, ...problemNotes(input, model, report), engineMs };
}
async function programBefore(doc, id) {
  const model = programModel(doc, id);
  if (!model.program) return null;
  const engines2 = await loadEngines({ expressionParser: indicatorsNeedParser([model]) });
  const expressions = validateProgramExpressions(engines2, model).filter((v) => v.severity !== null);
  return { expressions, references: checkReferences(engines2, model) };
}
function problemNotes(input, model, report) {
  const locator = new JsonKeyLocator(input.file, input.text);
  const at = (uid, key) => input.inRepo === false ? {} : locator.locate(uid, key);
  const rules2 = new Map(model.rules.map((r) => [String(r.id), r]));
  const indicators = new Map(model.indicators.map((i) => [String(i.id), i]));
  const owner = (v) => v.rule !== void 0 ? `rule "${ruleName(rules2.get(v.rule))}"` : `program indicator "${str(indicators.get(v.id)?.name) ?? v.id}"`;
  const hints = unknownNames(model);
  const expressionNotes = report.expressions.map((v) => {
    if (v.valid || v.severity === null) return void 0;
    const what = v.type === "programRuleActionData" ? `${v.actionType} action data` : TYPE_LABEL[v.type];
    return {
      message: `program ${model.id}, ${owner(v)}: ${what} ${JSON.stringify(oneLine(v.expression, 120))} is not valid: ${oneLine(v.message ?? "")}` + (v.type === "programRuleCondition" || v.type === "programRuleActionData" ? hints(v.expression) : ""),
      location: at(v.id, TYPE_KEY[v.type])
    };
  });
  const referenceNotes = report.references.map((r) => {
    const about = r.rule !== void 0 ? `rule "${ruleName(rules2.get(r.rule))}"` : r.objectType === "programIndicator" ? `program indicator "${str(indicators.get(r.id)?.name) ?? r.id}"` : "rule variable";
    return { message: `program ${model.id}, ${about}: ${r.message}`, location: at(r.id, r.key) };
  });
  const testNotes = report.tests.filter((t) => !t.passed).map((t) => ({
    message: `rule test "${t.name}" (program ${t.program}) failed: ${failureLines(t).map((l) => oneLine(l, 400)).join("; ")}`,
    location: { file: t.file, line: t.line }
  }));
  return { expressionNotes, referenceNotes, testNotes };
}
function unknownNames(model) {
  const variables = model.variables.map((v) => str(v.name) ?? "").filter(Boolean);
  const known = new Set(variables);
  return (expression) => {
    const unknown = /* @__PURE__ */ new Map();
    for (const m of expression.matchAll(/([#A])\{([^}]+)\}/g))
      if (!known.has(m[2])) unknown.set(m[0], m[2]);
    for (const m of expression.matchAll(/V\{([^}]+)\}/g))
      if (!(m[1] in ENV_VARIABLES)) unknown.set(m[0], "");
    if (unknown.size === 0) return "";
    const said = [...unknown].slice(0, 3).map(([written, name]) => {
      if (!name) return `${written} is no variable of the rule engine`;
      const near = closest(name, variables);
      return `no program rule variable is named ${name}${near ? ` (did you mean ${written[0]}{${near}}?)` : ""}`;
    });
    return ` (${said.join("; ")})`;
  };
}

// src/check/check-worker.ts
var tests = workerData.tests;
loadEngines().catch(() => {
});
async function answer(q) {
  if (q.kind === "file") {
    const input = { ...q.input, doc: JSON.parse(q.input.text) };
    return checkProgram(input, tests);
  }
  return programBefore(q.doc, q.id);
}
parentPort?.on("message", (q) => {
  answer(q).then(
    (value) => parentPort?.postMessage({ n: q.n, ok: true, value }),
    (e) => {
      const error = e;
      parentPort?.postMessage({
        n: q.n,
        ok: false,
        error: {
          message: error.message,
          user: isUserError(e),
          location: isUserError(e) ? e.location : {},
          stack: isUserError(e) ? void 0 : error.stack
        }
      });
    }
  );
});
