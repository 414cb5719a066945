#!/usr/bin/env node
// The `portico` command: runs the built server (server/dist/main.js), building it first when it
// is missing or older than its sources (a checkout just pulled, or installed without `prepare`).
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { buildServer, isServerBuildStale, serverEntry } from '../server/build.mjs';

module.enableCompileCache?.(); // Node 22+: V8 keeps the compiled bundle between runs

const stale = isServerBuildStale();
if (stale) {
  process.stderr.write(`portico: building the server into server/dist/ (${stale})\n`);
  try {
    await buildServer({ quiet: true });
  } catch (error) {
    process.stderr.write(`portico: could not build the server: ${error.message}\n`);
    process.stderr.write('  Build it in the package folder, as a user who may write there: npm run build:server\n');
    process.exit(1);
  }
}
// The running server's stack traces name the TypeScript lines; a short admin command skips the
// maps (parsing them costs about 0.1 s).
if (process.argv.slice(2).includes('start')) process.setSourceMapsEnabled(true);
await import(pathToFileURL(serverEntry).href);
