// The domain's public surface: pure rules shared by workflows, activities and the CLI.
export * from './cost';
export * from './custom-id';
export * from './duration';
export * from './errors';
export * from './format';
export * from './limits';
export * from './models';
export * from './poll';
export * from './prices';
export * from './request';
export * from './retry';
export * from './sla';
export * from './split';
