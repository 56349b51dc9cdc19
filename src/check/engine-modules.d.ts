// The two packages ship typings (rule-engine.d.ts, expression-parser.d.ts) that their package.json "exports"
// hide from NodeNext resolution; engines.ts imports them untyped and applies those typings itself.
declare module '@dhis2/rule-engine';
declare module '@dhis2/expression-parser';
