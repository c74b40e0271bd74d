export * from './enums.js';
export * from './incidents.js';
export * from './crime-reports.js';
export * from './pipeline-runs.js';
export * from './pipeline-steps.js';
export * from './rejected-records.js';
export * from './sync-state.js';
export * from './staging.js';
export * from './analytics.js';
// cpd dataset scaffold: tables
