/**
 * DHIS2's own JavaScript engines, loaded on demand: `@dhis2/rule-engine` (the Kotlin multiplatform library the
 * server, Android and the Capture app share) and `@dhis2/expression-parser` (program indicator expressions and
 * filters). Both are big (Kotlin/JS with its standard library), so only the commands that check expressions
 * import them, dynamically; scripts/build.mjs bundles them into their own file (dist/engines.js) that the
 * other commands never parse.
 */
import type * as RuleEngineTypes from '../../node_modules/@dhis2/rule-engine/rule-engine.d.ts';
import type * as ExpressionParserTypes from '../../node_modules/@dhis2/expression-parser/expression-parser.d.ts';

export type RuleEngineModule = typeof RuleEngineTypes;
export type ExpressionParserModule = typeof ExpressionParserTypes;

export interface Engines {
  rules: RuleEngineModule;
  expressions: ExpressionParserModule;
}

let rules: Promise<RuleEngineModule> | undefined;
let parser: Promise<ExpressionParserModule> | undefined;
let parserLoaded: ExpressionParserModule | undefined;

/** The engines, each imported once per process. */
const engines: Engines = {
  rules: undefined as unknown as RuleEngineModule,
  get expressions(): ExpressionParserModule {
    // Loaded before any text that needs it is judged (validate-expressions.ts indicatorsNeedParser).
    if (!parserLoaded) throw new Error('the expression parser was not loaded');
    return parserLoaded;
  },
};

/**
 * The engines. `expressionParser: false` leaves @dhis2/expression-parser unloaded (its compile is a tenth of a
 * second) when no indicator text needs it: the indicator fast path judges the rest (indicator-semantics.ts).
 */
export async function loadEngines(options: { expressionParser?: boolean } = {}): Promise<Engines> {
  rules ??= import('@dhis2/rule-engine').then((m) => m as RuleEngineModule);
  if (options.expressionParser !== false) {
    parser ??= import('@dhis2/expression-parser').then((m) => (parserLoaded = m as ExpressionParserModule));
    await parser;
  }
  engines.rules = await rules;
  return engines;
}
