/**
 * The slice of DHIS2's schema the emulator needs: collection names and their Java classes (for import
 * reports), which properties are references (for E5002 and field expansion), which objects are embedded
 * in their owner, which properties are required (E4000) and which types are shareable.
 */

/** Collection (plural, as in a metadata document) -> fully qualified class, as import reports name it. */
export const KLASS: Readonly<Record<string, string>> = {
  attributes: 'org.hisp.dhis.attribute.Attribute',
  categories: 'org.hisp.dhis.category.Category',
  categoryCombos: 'org.hisp.dhis.category.CategoryCombo',
  categoryOptionCombos: 'org.hisp.dhis.category.CategoryOptionCombo',
  categoryOptions: 'org.hisp.dhis.category.CategoryOption',
  categoryOptionGroups: 'org.hisp.dhis.category.CategoryOptionGroup',
  categoryOptionGroupSets: 'org.hisp.dhis.category.CategoryOptionGroupSet',
  charts: 'org.hisp.dhis.chart.Chart',
  constants: 'org.hisp.dhis.constant.Constant',
  dashboards: 'org.hisp.dhis.dashboard.Dashboard',
  dataElementGroups: 'org.hisp.dhis.dataelement.DataElementGroup',
  dataElementGroupSets: 'org.hisp.dhis.dataelement.DataElementGroupSet',
  dataElements: 'org.hisp.dhis.dataelement.DataElement',
  dataEntryForms: 'org.hisp.dhis.dataentryform.DataEntryForm',
  dataSets: 'org.hisp.dhis.dataset.DataSet',
  documents: 'org.hisp.dhis.document.Document',
  eventReports: 'org.hisp.dhis.eventreport.EventReport',
  eventCharts: 'org.hisp.dhis.eventchart.EventChart',
  eventVisualizations: 'org.hisp.dhis.eventvisualization.EventVisualization',
  indicatorGroups: 'org.hisp.dhis.indicator.IndicatorGroup',
  indicatorGroupSets: 'org.hisp.dhis.indicator.IndicatorGroupSet',
  indicatorTypes: 'org.hisp.dhis.indicator.IndicatorType',
  indicators: 'org.hisp.dhis.indicator.Indicator',
  jobConfigurations: 'org.hisp.dhis.scheduling.JobConfiguration',
  legendSets: 'org.hisp.dhis.legend.LegendSet',
  legends: 'org.hisp.dhis.legend.Legend',
  maps: 'org.hisp.dhis.mapping.Map',
  optionGroups: 'org.hisp.dhis.option.OptionGroup',
  optionGroupSets: 'org.hisp.dhis.option.OptionGroupSet',
  optionSets: 'org.hisp.dhis.option.OptionSet',
  options: 'org.hisp.dhis.option.Option',
  organisationUnitGroupSets: 'org.hisp.dhis.organisationunit.OrganisationUnitGroupSet',
  organisationUnitGroups: 'org.hisp.dhis.organisationunit.OrganisationUnitGroup',
  organisationUnitLevels: 'org.hisp.dhis.organisationunit.OrganisationUnitLevel',
  organisationUnits: 'org.hisp.dhis.organisationunit.OrganisationUnit',
  predictorGroups: 'org.hisp.dhis.predictor.PredictorGroup',
  predictors: 'org.hisp.dhis.predictor.Predictor',
  programIndicatorGroups: 'org.hisp.dhis.program.ProgramIndicatorGroup',
  programIndicators: 'org.hisp.dhis.program.ProgramIndicator',
  programNotificationTemplates: 'org.hisp.dhis.program.notification.ProgramNotificationTemplate',
  programRuleActions: 'org.hisp.dhis.programrule.ProgramRuleAction',
  programRuleVariables: 'org.hisp.dhis.programrule.ProgramRuleVariable',
  programRules: 'org.hisp.dhis.programrule.ProgramRule',
  programSections: 'org.hisp.dhis.program.ProgramSection',
  programStageDataElements: 'org.hisp.dhis.program.ProgramStageDataElement',
  programStageSections: 'org.hisp.dhis.program.ProgramStageSection',
  programStages: 'org.hisp.dhis.program.ProgramStage',
  programTrackedEntityAttributes: 'org.hisp.dhis.program.ProgramTrackedEntityAttribute',
  programs: 'org.hisp.dhis.program.Program',
  relationshipTypes: 'org.hisp.dhis.relationship.RelationshipType',
  reports: 'org.hisp.dhis.report.Report',
  sections: 'org.hisp.dhis.dataset.Section',
  sqlViews: 'org.hisp.dhis.sqlview.SqlView',
  trackedEntityAttributes: 'org.hisp.dhis.trackedentity.TrackedEntityAttribute',
  trackedEntityInstanceFilters: 'org.hisp.dhis.trackedentityfilter.TrackedEntityInstanceFilter',
  trackedEntityTypeAttributes: 'org.hisp.dhis.trackedentity.TrackedEntityTypeAttribute',
  trackedEntityTypes: 'org.hisp.dhis.trackedentity.TrackedEntityType',
  userGroups: 'org.hisp.dhis.user.UserGroup',
  userRoles: 'org.hisp.dhis.user.UserRole',
  users: 'org.hisp.dhis.user.User',
  validationNotificationTemplates: 'org.hisp.dhis.validation.notification.ValidationNotificationTemplate',
  validationRuleGroups: 'org.hisp.dhis.validation.ValidationRuleGroup',
  validationRules: 'org.hisp.dhis.validation.ValidationRule',
  visualizations: 'org.hisp.dhis.visualization.Visualization',
};

export function isKnownCollection(name: string): boolean {
  return Object.hasOwn(KLASS, name);
}

export function klassOf(collection: string): string {
  return KLASS[collection] ?? `org.hisp.dhis.${collection}`;
}

/** `org.hisp.dhis.program.ProgramStage` -> `ProgramStage`. */
export function simpleName(klass: string): string {
  return klass.slice(klass.lastIndexOf('.') + 1);
}

/**
 * Reference properties -> the collection they point into. A value under one of these names is a reference
 * ({id} or [{id}]) wherever it appears, except inside the containers listed in NOT_WALKED.
 */
export const REFERENCES: Readonly<Record<string, string>> = {
  program: 'programs',
  programs: 'programs',
  relatedProgram: 'programs',
  programStage: 'programStages',
  programStages: 'programStages',
  nextScheduleDate: 'dataElements',
  dataElement: 'dataElements',
  dataElements: 'dataElements',
  recipientDataElement: 'dataElements',
  trackedEntityAttribute: 'trackedEntityAttributes',
  trackedEntityAttributes: 'trackedEntityAttributes',
  recipientProgramAttribute: 'trackedEntityAttributes',
  trackedEntityType: 'trackedEntityTypes',
  optionSet: 'optionSets',
  commentOptionSet: 'optionSets',
  option: 'options',
  options: 'options',
  optionGroup: 'optionGroups',
  optionGroups: 'optionGroups',
  categoryCombo: 'categoryCombos',
  enrollmentCategoryCombo: 'categoryCombos',
  attributeCombo: 'categoryCombos',
  category: 'categories',
  categories: 'categories',
  categoryOption: 'categoryOptions',
  categoryOptions: 'categoryOptions',
  programRule: 'programRules',
  programRuleActions: 'programRuleActions',
  programIndicator: 'programIndicators',
  programIndicators: 'programIndicators',
  programStageSection: 'programStageSections',
  programStageSections: 'programStageSections',
  programSections: 'programSections',
  dataEntryForm: 'dataEntryForms',
  notificationTemplates: 'programNotificationTemplates',
  programNotificationTemplate: 'programNotificationTemplates',
  legendSet: 'legendSets',
  legendSets: 'legendSets',
  organisationUnits: 'organisationUnits',
  recipientUserGroup: 'userGroups',
  attribute: 'attributes',
  indicatorType: 'indicatorTypes',
};

/** Never searched for references: server-managed or handled separately (sharing). */
export const NOT_WALKED: ReadonlySet<string> = new Set([
  'sharing',
  'publicAccess',
  'externalAccess',
  'userAccesses',
  'userGroupAccesses',
  'user',
  'createdBy',
  'lastUpdatedBy',
  'access',
  'translations',
  'favorites',
  'href',
]);

/**
 * Objects stored inside their owner, not as collections of their own (DHIS2 "embedded objects").
 * owner collection -> property -> the embedded object's collection name.
 */
export const EMBEDDED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  programStages: { programStageDataElements: 'programStageDataElements' },
  programs: { programTrackedEntityAttributes: 'programTrackedEntityAttributes' },
  trackedEntityTypes: { trackedEntityTypeAttributes: 'trackedEntityTypeAttributes' },
  legendSets: { legends: 'legends' },
};

/** Embedded collection -> [owner collection, owner property, back-reference property on the embedded object]. */
export const EMBEDDED_OWNER: Readonly<Record<string, readonly [string, string, string]>> = {
  programStageDataElements: ['programStages', 'programStageDataElements', 'programStage'],
  programTrackedEntityAttributes: ['programs', 'programTrackedEntityAttributes', 'program'],
  trackedEntityTypeAttributes: ['trackedEntityTypes', 'trackedEntityTypeAttributes', 'trackedEntityType'],
};

/**
 * Required properties (E4000), from the DHIS2 schemas of the types a program export carries. `shortName` on
 * trackedEntityTypes is required in the real 2.42/2.43 report in test/fixtures/dhis2.
 */
export const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  programs: ['name', 'shortName', 'programType'],
  programStages: ['name'],
  programStageSections: ['name'],
  programSections: ['name'],
  dataElements: ['name', 'shortName', 'valueType', 'aggregationType', 'domainType'],
  trackedEntityAttributes: ['name', 'shortName', 'valueType', 'aggregationType'],
  trackedEntityTypes: ['name', 'shortName'],
  optionSets: ['name', 'valueType'],
  options: ['name', 'code'],
  programRules: ['name', 'program'],
  programRuleVariables: ['name', 'program', 'programRuleVariableSourceType'],
  programRuleActions: ['programRuleActionType'],
  programIndicators: ['name', 'shortName', 'program'],
  attributes: ['name', 'valueType'],
  legendSets: ['name'],
  categoryCombos: ['name', 'dataDimensionType'],
  categories: ['name', 'dataDimensionType'],
  categoryOptions: ['name', 'shortName'],
  userGroups: ['name'],
  organisationUnits: ['name', 'shortName', 'openingDate'],
  relationshipTypes: ['name'],
};

/** The Java type of a required property, as errorKlass in E4000 reports. */
export const PROPERTY_KLASS: Readonly<Record<string, string>> = {
  valueType: 'org.hisp.dhis.common.ValueType',
  aggregationType: 'org.hisp.dhis.analytics.AggregationType',
  domainType: 'org.hisp.dhis.dataelement.DataElementDomain',
  programType: 'org.hisp.dhis.program.ProgramType',
  dataDimensionType: 'org.hisp.dhis.common.DataDimensionType',
  programRuleActionType: 'org.hisp.dhis.programrule.ProgramRuleActionType',
  programRuleVariableSourceType: 'org.hisp.dhis.programrule.ProgramRuleVariableSourceType',
  program: 'org.hisp.dhis.program.Program',
  openingDate: 'java.util.Date',
};

/** Unique properties (E5003 when another object of the type already has the value), from the DHIS2 schemas. */
export const UNIQUE: Readonly<Record<string, readonly string[]>> = {
  programs: ['name', 'shortName', 'code'],
  dataElements: ['name', 'shortName', 'code'],
  trackedEntityAttributes: ['name', 'shortName', 'code'],
  trackedEntityTypes: ['name', 'code'],
  optionSets: ['name', 'code'],
  programIndicators: ['name', 'shortName', 'code'],
  attributes: ['name', 'code'],
  categoryOptions: ['name', 'shortName', 'code'],
  categories: ['name', 'code'],
  categoryCombos: ['name', 'code'],
  legendSets: ['code'],
  userGroups: ['name', 'code'],
};

/** Types with sharing (the metadata a program export carries that DHIS2 marks shareable). */
export const SHAREABLE: ReadonlySet<string> = new Set([
  'programs',
  'programStages',
  'dataElements',
  'trackedEntityAttributes',
  'trackedEntityTypes',
  'optionSets',
  'optionGroups',
  'optionGroupSets',
  'categories',
  'categoryCombos',
  'categoryOptions',
  'categoryOptionGroups',
  'categoryOptionGroupSets',
  'legendSets',
  'programIndicators',
  'programIndicatorGroups',
  'attributes',
  'relationshipTypes',
  'userGroups',
  'dataElementGroups',
  'dataElementGroupSets',
  'indicators',
  'indicatorGroups',
  'indicatorGroupSets',
  'constants',
  'dataSets',
  'dashboards',
  'visualizations',
  'eventVisualizations',
  'eventReports',
  'eventCharts',
  'charts',
  'maps',
  'reports',
  'documents',
  'sqlViews',
  'trackedEntityInstanceFilters',
  'validationRules',
  'validationRuleGroups',
  'predictors',
]);

/** The default category model every DHIS2 server has (dhis2-api.md). */
export const DEFAULT_IDS = {
  categoryCombo: 'bjDvmb4bfuf',
  category: 'GLevLNI9wkl',
  categoryOption: 'xYerKDKCefk',
  categoryOptionCombo: 'HllvX50cXC0',
} as const;
export const DEFAULT_ID_SET: ReadonlySet<string> = new Set(Object.values(DEFAULT_IDS));
/** Default id -> its collection: a default satisfies only a reference of its own type (bjDvmb4bfuf is no option set). */
export const DEFAULT_ID_COLLECTION: Readonly<Record<string, string>> = {
  [DEFAULT_IDS.categoryCombo]: 'categoryCombos',
  [DEFAULT_IDS.category]: 'categories',
  [DEFAULT_IDS.categoryOption]: 'categoryOptions',
  [DEFAULT_IDS.categoryOptionCombo]: 'categoryOptionCombos',
};

/**
 * Import order (DHIS2 imports dependencies first); also the order of typeReports in a report.
 * Anything not listed follows in alphabetical order.
 */
export const IMPORT_ORDER: readonly string[] = [
  'userRoles',
  'users',
  'userGroups',
  'attributes',
  'organisationUnits',
  'categoryOptions',
  'categories',
  'categoryCombos',
  'categoryOptionCombos',
  'legendSets',
  'options',
  'optionSets',
  'optionGroups',
  'trackedEntityAttributes',
  'trackedEntityTypes',
  'dataElements',
  'dataEntryForms',
  'programNotificationTemplates',
  'programs',
  'programTrackedEntityAttributes',
  'programStages',
  'programStageDataElements',
  'programStageSections',
  'programSections',
  'programIndicators',
  'programRuleVariables',
  'programRules',
  'programRuleActions',
  'relationshipTypes',
];

const UID_RE = /^[a-zA-Z][a-zA-Z0-9]{10}$/;
export function isValidUid(id: unknown): id is string {
  return typeof id === 'string' && UID_RE.test(id);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = LETTERS + '0123456789';

/** A random UID, as DHIS2's CodeGenerator makes them. */
export function generateUid(random: () => number = Math.random): string {
  let s = LETTERS[Math.floor(random() * LETTERS.length)]!;
  for (let i = 0; i < 10; i++) s += ALNUM[Math.floor(random() * ALNUM.length)]!;
  return s;
}

/** A UID derived from a string, for ids the seed has to invent (same input, same id, every start). */
export function derivedUid(seed: string): string {
  let h = 2166136261;
  const next = (): number => {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    return ((h >>> 0) % 1_000_000) / 1_000_000;
  };
  return generateUid(next);
}
