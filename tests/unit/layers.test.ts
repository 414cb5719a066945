/**
 * The layer rule of docs/architecture.md (.dependency-cruiser.cjs, `npm run lint`): the real tree
 * passes; a copy of it with imports against the layers added fails, naming each rule and import,
 * including an import from a file that has a known exception (an exception covers one import,
 * not a file) and a known exception's target imported from another file.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const CONFIG = '.dependency-cruiser.cjs';
const SOURCES = ['server', 'shared', 'electron'];

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** `npm run lint` in `dir`: its exit status and what it printed. */
function lint(dir: string) {
  const run = spawnSync('npm', ['run', '--silent', 'lint'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(run.error).toBeUndefined();
  return { status: run.status, output: run.stdout + run.stderr };
}

/** The same check as the lint, answering its violations as data. */
function violations(dir: string): string[] {
  const run = spawnSync(join(root, 'node_modules/.bin/depcruise'), ['--config', CONFIG, '--output-type', 'json', ...SOURCES], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.stdout, run.stderr).toMatch(/^\{/);
  const found = (JSON.parse(run.stdout).summary.violations as Violation[]).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
  return [...new Set(found)].sort();
}

describe('layer rule (npm run lint)', () => {
  const temp = mkdtempSync(join(tmpdir(), 'portico-layers-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('passes on the real tree', () => {
    const { status, output } = lint(root);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  }, 120_000);

  it('fails on an import against the layers, naming the rule', () => {
    for (const dir of SOURCES) {
      cpSync(join(root, dir), join(temp, dir), { recursive: true, filter: (src) => !/(^|\/)(node_modules|dist|out)$/.test(src) });
    }
    for (const file of [CONFIG, 'tsconfig.json', 'package.json']) cpSync(join(root, file), join(temp, file));
    symlinkSync(join(root, 'node_modules'), join(temp, 'node_modules'));

    const add = (file: string, line: string) => appendFileSync(join(temp, file), `\n${line}\n`);
    // The store importing a feature, from a file that has known exceptions (for other imports).
    add('server/src/store/sqlite.ts', "import '../chat/service.js';");
    // A known exception's target, from a store file that has no exception for it.
    add('server/src/store/portal.ts', "import type { TopicCache } from '../events/topics.js';");
    // The protocol importing either side.
    add('shared/limits.ts', "import type { Store } from '../server/src/store/store.js';");
    add('shared/chat.ts', "import type { PorticoBridge } from '../electron/preload/bridge.js';");
    // The http layer importing a feature.
    add('server/src/http/headers.ts', "import '../notices/routes.js';");
    // The client importing server code; the renderer importing the main process.
    add('electron/renderer/src/model.ts', "import type { AppError } from '../../../server/src/errors.js';");
    add('electron/renderer/src/i18n.ts', "import '../../main/text.js';");
    // The main process importing the renderer (not through the preload bridge).
    add('electron/main/text.ts', "import '../renderer/src/i18n.js';");
    // The renderer's api/ importing its UI.
    add('electron/renderer/src/api/util.ts', "import '../components/Icon.js';");
    // A new import cycle under server/src.
    writeFileSync(join(temp, 'server/src/notices/cycle-a.ts'), "import { b } from './cycle-b.js';\nexport const a = () => b;\n");
    writeFileSync(join(temp, 'server/src/notices/cycle-b.ts'), "import { a } from './cycle-a.js';\nexport const b = () => a;\n");

    const { status, output } = lint(temp);
    expect(status).not.toBe(0);
    expect(output).toContain('error store-is-storage: server/src/store/sqlite.ts → server/src/chat/service.ts');
    const expected = [
      'store-is-storage: server/src/store/sqlite.ts → server/src/chat/service.ts',
      'store-is-storage: server/src/store/portal.ts → server/src/events/topics.ts',
      'shared-is-the-protocol: shared/limits.ts → server/src/store/store.ts',
      'shared-is-the-protocol: shared/chat.ts → electron/preload/bridge.ts',
      'infra-below-features: server/src/http/headers.ts → server/src/notices/routes.ts',
      'client-not-server: electron/renderer/src/model.ts → server/src/errors.ts',
      'renderer-not-main: electron/renderer/src/i18n.ts → electron/main/text.ts',
      'main-not-renderer: electron/main/text.ts → electron/renderer/src/i18n.ts',
      'renderer-api-below-ui: electron/renderer/src/api/util.ts → electron/renderer/src/components/Icon.tsx',
      'no-circular: server/src/notices/cycle-a.ts → server/src/notices/cycle-b.ts',
    ];
    const found = violations(temp);
    expect(found).toEqual(expect.arrayContaining(expected));
    // Nothing but what was added (the added shared → server import also closes cycles through
    // shared/, reported as such): the tree's own imports, excepted ones included, still pass.
    expect(found.filter((v) => !v.startsWith('no-circular:'))).toEqual(expected.filter((v) => !v.startsWith('no-circular:')).sort());
  }, 180_000);
});
