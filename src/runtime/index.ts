// The controller runtime: what controllers in src/controllers build on. Test helpers (a
// fake clock, waitFor) live in ./testing.js and are not exported here.
export * from './backoff.js';
export * from './client.js';
export * from './clock.js';
export * from './controller.js';
export * from './events.js';
export * from './informer.js';
export * from './keys.js';
export * from './leader.js';
export * from './manager.js';
export * from './metrics-server.js';
export * from './indexer.js';
export * from './queue.js';
export * from './rate-limiter.js';
export * from './reconciler.js';
export * from './resource.js';
export * from './status.js';
