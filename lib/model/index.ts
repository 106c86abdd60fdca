export * from './workload.js';
export * from './policy.js';
export * from './routes.js';
export * from './resources.js';
export * from './store.js';
export * from './peer-workload.js';
