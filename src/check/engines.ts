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

let loading: Promise<Engines> | undefined;

/** Both engines, imported once per process. */
export function loadEngines(): Promise<Engines> {
  loading ??= (async () => {
    const [rules, expressions] = await Promise.all([import('@dhis2/rule-engine'), import('@dhis2/expression-parser')]);
    return { rules: rules as RuleEngineModule, expressions: expressions as ExpressionParserModule };
  })();
  return loading;
}
