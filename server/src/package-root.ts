/**
 * The package's folder (the nearest one up with a package.json), found from this module at run
 * time: the same answer whether it runs as source (server/src/) or bundled (server/dist/main.js),
 * so files of the package are never looked up by a relative path that only holds for one layout.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
