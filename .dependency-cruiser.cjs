/**
 * The floor plan (docs/architecture.md), checked by `npm run lint`:
 *
 *   shared/ (the protocol) ← server base files ← store/ ← http/, events/ ← feature folders ← app.ts, server.ts, main.ts
 *   electron/renderer: components, calls ← api/ ← shared/;  electron/main ↔ renderer only through electron/preload/bridge.ts
 *
 * An arrow points at what a layer may import. Type-only imports count: a type is a dependency too.
 * Known violations are listed below as explicit exceptions (one import each, not a whole file),
 * so that a new import against the layers fails even in a file that has an exception.
 */

/** Feature folders: any folder of server/src that is not one of the lower layers (new folders count). */
const FEATURE = '^server/src/(?!(store|http|events)/)[^/]+/';
/** Plumbing at the root of server/src, below everything there: errors, file modes, settings, secrets, version, after-turn work. */
const BASE = '^server/src/(errors|private-fs|config|secrets|version|package-root|after-turn)\\.ts$';
/** The top: wiring and the entry points. context.ts holds only the Services interface. */
const APP = '^server/src/(app|server|main|context)\\.ts$';

/**
 * Imports against the layers that exist today. Each names the issue whose work removes it; delete
 * the entry when that lands (the lint then keeps it from coming back).
 */
const EXCEPTIONS = [];

const rules = [
  {
    name: 'shared-is-the-protocol',
    comment: 'shared/ is the protocol both sides speak: it imports neither the server nor the client (npm packages only, e.g. zod).',
    from: { path: '^shared/' },
    to: { path: '^(server|electron|tests|bench|scripts|bin)/' },
  },
  {
    name: 'server-base-is-plumbing',
    comment: 'errors.ts, private-fs.ts, config.ts, secrets.ts, version.ts, package-root.ts and after-turn.ts import only shared/, each other and npm packages.',
    from: { path: BASE },
    to: { path: '^server/src/', pathNot: BASE },
  },
  {
    name: 'store-is-storage',
    comment: 'store/ imports only shared/, itself and the plumbing it needs (errors.ts, private-fs.ts): no feature, no events, no http.',
    from: { path: '^server/src/store/' },
    to: { path: '^server/src/', pathNot: ['^server/src/store/', '^server/src/(errors|private-fs)\\.ts$'] },
  },
  {
    name: 'infra-below-features',
    comment: 'http/ and events/ serve every feature and import none (features plug in through RouteSpec and Services).',
    from: { path: '^server/src/(http|events)/' },
    // auth/sessions.ts is the session table's cache, on top of store/ only (rule sessions-stay-low):
    // http/auth.ts checks every request's session through it.
    to: { path: FEATURE, pathNot: '^server/src/auth/sessions\\.ts$' },
  },
  {
    name: 'sessions-stay-low',
    comment: 'auth/sessions.ts is used by http/: it may import store/, shared/ and the base files only.',
    from: { path: '^server/src/auth/sessions\\.ts$' },
    to: { path: '^server/src/', pathNot: ['^server/src/store/', BASE] },
  },
  {
    name: 'below-app',
    comment: 'Only the entry points import app.ts, server.ts and main.ts; store/, http/ and events/ import none of the top.',
    from: { path: '^server/src/(store|http|events)/' },
    to: { path: APP, pathNot: '^server/src/context\\.ts$' },
  },
  {
    name: 'features-below-app',
    comment: 'A feature is mounted by app.ts and built by server.ts; it imports neither (context.ts, the Services interface, it may).',
    from: { path: FEATURE },
    to: { path: '^server/src/(app|server|main)\\.ts$' },
  },
  {
    name: 'services-type-only',
    comment: 'context.ts is the Services interface: import it as a type (only server.ts builds the services).',
    from: { path: '^server/src/', pathNot: '^server/src/(app|server)\\.ts$' },
    to: { path: '^server/src/context\\.ts$', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'no-circular',
    comment: 'No import cycle under server/src: each layer and each feature can be read from the bottom up.',
    from: { path: '^server/src/' },
    to: { circular: true },
  },
  {
    name: 'server-not-client',
    comment: 'The server speaks to the client only over HTTP: it imports nothing of electron/.',
    from: { path: '^server/' },
    to: { path: '^electron/' },
  },
  {
    name: 'client-not-server',
    comment: 'The panel (shell and renderer) knows the server only through shared/ and HTTP: no server code.',
    from: { path: '^electron/' },
    to: { path: '^server/' },
  },
  {
    name: 'renderer-not-main',
    comment: 'The renderer reaches the main process only through the preload bridge: it imports the bridge contract (preload/bridge.ts), nothing else of the shell.',
    from: { path: '^electron/renderer/' },
    to: { path: '^electron/(main|preload)/', pathNot: '^electron/preload/bridge\\.ts$' },
  },
  {
    name: 'main-not-renderer',
    comment: 'The main process reaches the renderer only through the preload bridge (IPC channels in preload/bridge.ts).',
    from: { path: '^electron/(main|preload)/' },
    to: { path: '^electron/renderer/' },
  },
  {
    name: 'preload-not-main',
    comment: 'The preload scripts run beside the page: they import only the bridge contract and electron.',
    from: { path: '^electron/preload/' },
    to: { path: '^electron/main/' },
  },
  {
    name: 'renderer-api-below-ui',
    comment: "The renderer's api/ (transport, session, poll, outbox) imports only itself and shared/: never the components or the app.",
    from: { path: '^electron/renderer/src/api/' },
    to: { path: '^electron/renderer/', pathNot: '^electron/renderer/src/api/' },
  },
  {
    name: 'renderer-shared-through-api',
    comment: "The renderer's UI takes the protocol's types and limits through its api/, so one place maps the wire.",
    from: { path: '^electron/renderer/', pathNot: '^electron/renderer/src/api/' },
    to: { path: '^shared/' },
  },
  {
    name: 'resolvable',
    comment: 'Every import resolves (an import the check cannot follow would escape every rule above).',
    from: {},
    to: { couldNotResolve: true },
  },
];

/** A file's path as a regular expression that matches it alone. */
const exactly = (file) => `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
const asList = (p) => (p === undefined ? [] : Array.isArray(p) ? p : [p]);

/**
 * A rule with exceptions becomes the rule minus the excepted files, plus, per excepted file,
 * the same rule minus that file's excepted targets: an exception covers one import, not a file.
 */
function withExceptions(rule) {
  const targets = new Map(); // excepted file → its excepted targets
  for (const e of EXCEPTIONS.filter((x) => x.rule === rule.name)) {
    for (const from of e.from) targets.set(from, [...(targets.get(from) ?? []), ...e.to]);
  }
  const main = { severity: 'error', ...rule, from: { ...rule.from, pathNot: [...asList(rule.from.pathNot), ...[...targets.keys()].map(exactly)] } };
  const perFile = [...targets].map(([from, to]) => ({
    severity: 'error',
    ...rule,
    comment: `${rule.comment} (this file has known exceptions: EXCEPTIONS in .dependency-cruiser.cjs)`,
    from: { ...rule.from, path: exactly(from) },
    to: { ...rule.to, pathNot: [...asList(rule.to.pathNot), ...to.map(exactly)] },
  }));
  return [main, ...perFile];
}

for (const e of EXCEPTIONS) {
  if (!rules.some((r) => r.name === e.rule)) throw new Error(`.dependency-cruiser.cjs: an exception names no rule: ${e.rule}`);
}

module.exports = {
  forbidden: rules.flatMap(withExceptions),
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // The renderer's stylesheet and icon are bundled by esbuild; they import nothing.
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.css', '.svg'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
