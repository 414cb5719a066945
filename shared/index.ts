export * from './limits.js';
export * from './errors.js';
export * from './schemas.js';
export * from './chat.js';
export * from './portal.js';
export * from './calls.js';
export * from './topics.js';
export * from './meetings.js';
