/**
 * Electron security check for CI: runs @doyensec/electronegativity over the built main process,
 * preloads and renderer, and fails (exit 1) on any finding of MEDIUM or HIGH severity, whatever
 * its confidence, on any file the analyser could not parse, and on a bundle it could not fully see.
 * LOW and INFORMATIONAL findings are listed and pass ("no finding above low severity", issue 4).
 *
 *   npm run check:electron          builds everything first, then runs this
 *   node electron/check-security.mjs [--out report.sarif|report.csv] [--online] [--keep]
 *     --out     also write the full report (every severity) for CI artifacts
 *     --online  also run AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK (needs github.com; see EXCLUDED)
 *     --keep    keep the scanned copy (its path is printed) to look at findings' line numbers
 *     --renderer-dist DIR   scan this renderer build instead of electron/renderer/dist
 *
 * Why a wrapper and not the electronegativity CLI: the CLI always exits 0 whatever it finds, and
 * in this repository it does not even start (it requires commander without declaring it, and gets
 * the project's commander 14, whose API it does not know: "_commander2.default.version is not a
 * function"). The library entry point (dist/runner.js) returns the findings instead.
 *
 * What is scanned, from a temporary copy:
 *   main/main.js, preload/preload.js, preload/prompt.js   electron/dist (npm run build:electron);
 *       the preloads are .cjs there, and the analyser only reads .js files
 *   renderer/index.html, renderer/assets/*.js             electron/renderer/dist (build:renderer)
 *   package.json                                          the app manifest (JSON checks)
 * JavaScript is first lowered to ES2017 syntax with esbuild (same code, older syntax): the
 * analyser's parsers (esprima 4, then Babel with an old scope analyser) stop at newer syntax such
 * as private class fields, and a file that does not parse would silently go unchecked.
 *
 * The analyser recognises a window only as `new BrowserWindow({...})` (or BrowserView) with the
 * options as a literal object. electron/main/windows.ts constructs every window that way, and
 * checkBundleCoverage() below refuses a main bundle in which a window class reaches the code under
 * another name (esbuild renames a second import to BrowserWindow2) or through a namespace.
 */
import { transform } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(import.meta.url);

/**
 * Checks not run. Each is a false positive for this code base or not about this code at all;
 * everything else runs, and a new finding of any other check fails the build.
 */
const EXCLUDED = {
  // Wants webPreferences.disableBlinkFeatures: 'Auxclick' on every window so that a middle click
  // cannot open a link in a new window. Chromium no longer has a runtime feature of that name
  // (electron/electron#10315: the option does nothing), so the option would only silence the
  // tool. What it guards against is handled for real: main.ts's harden() gives every web
  // contents a setWindowOpenHandler that denies every new window (a middle click ends there and
  // is routed to the allow-listed openExternal) and a will-navigate guard; the analyser's own
  // LIMIT_NAVIGATION_GLOBAL_CHECK confirms both are present.
  AUXCLICK_JS_CHECK: 'AuxclickJSCheck',
  // Compares the Electron version in package.json with github.com/electron/releases: needs the
  // network at scan time, and its verdict changes with every Electron release, not with our code.
  // Run it with --online (e.g. in a scheduled job) to learn about Electron security releases.
  AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK: 'AvailableSecurityFixesGlobalCheck',
};

/**
 * Findings accepted after review, each for one check in one place: the check id, the scanned file
 * (a RegExp for the renderer's hashed bundle names) and, for our own code, the exact code line
 * the finding points at. Anything else, including the same check at another line, still fails;
 * a waiver that no longer matches any finding fails too, so the list cannot go stale.
 */
const WAIVERS = [
  {
    id: 'PRELOAD_JS_CHECK',
    file: 'main/main.js',
    line: 'preload: options.preload,',
    why:
      'windows.ts: the three windows load electron/preload/preload.ts (panel, chat) or prompt.ts ' +
      '(prompt), both scanned here as well. preload.ts exposes one object through contextBridge: ' +
      'a fixed method per IPC channel, never ipcRenderer or the IPC event; main ' +
      're-validates every call (ipc.ts schemas and sender frame). prompt.ts exposes nothing. The ' +
      'tool flags every preload for manual review.',
  },
  {
    id: 'OPEN_EXTERNAL_JS_CHECK',
    file: 'main/main.js',
    line: 'return shell.openExternal(safe);',
    why:
      'main.ts openExternally(): the only shell.openExternal call; its argument is the value ' +
      'safeExternalUrl() (urls.ts, unit-tested) returned on the line before: http:, https: or ' +
      'mailto: only, no credentials, no control characters, bounded length. The tool flags every ' +
      'openExternal with a non-literal argument for manual review.',
  },
  {
    id: 'CERTIFICATE_VERIFY_PROC_JS_CHECK',
    file: 'main/main.js',
    line: 'ses.setCertificateVerifyProc(verifyCertificate);',
    why:
      'main.ts secureSession(): the only verify procedure; verifyCertificate defers to trust.ts ' +
      "decideTrust (unit-tested): Chromium's own result stands, otherwise only the configured " +
      'server whose chain verifies, signature by signature, up to the pinned organisation CA; no ' +
      '"accept all" path. The tool flags every setCertificateVerifyProc for manual review.',
  },
  {
    id: 'OPEN_EXTERNAL_JS_CHECK',
    file: /^renderer\/assets\/[^/]+\.js$/,
    why:
      'In the renderer, openExternal can only be the bridge method window.portico.openExternal: ' +
      'the sandboxed, context-isolated page has no shell module. The call becomes an IPC message ' +
      'that main validates (ipc.ts: the sender is the top frame of the app, the URL passes ' +
      'safeExternalUrl) before openExternally() checks it again and calls shell.openExternal.',
  },
];

const waiverMatches = (w, f) =>
  w.id === f.id && (w.file instanceof RegExp ? w.file.test(f.file) : w.file === f.file) && (w.line === undefined || w.line === f.sample);

const FAILING = new Set(['MEDIUM', 'HIGH']);
const WINDOW_CLASSES = ['BrowserWindow', 'BrowserView', 'WebContentsView', 'BaseWindow'];

function parseArgs(argv) {
  const options = { out: undefined, online: false, keep: false, rendererDist: join(here, 'renderer/dist') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--online') options.online = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--out' && argv[i + 1]) options.out = resolve(argv[++i]);
    else if (arg.startsWith('--out=')) options.out = resolve(arg.slice(6));
    else if (arg === '--renderer-dist' && argv[i + 1]) options.rendererDist = resolve(argv[++i]);
    else throw new Error(`unknown argument ${arg}`);
  }
  if (options.out && !/\.(csv|sarif)$/.test(options.out)) throw new Error('--out must name a .csv or .sarif file');
  return options;
}

/**
 * The analyser sees a window only as `new BrowserWindow(...)`/`new BrowserView(...)` under exactly
 * that name. Refuse a main bundle where a window class could be constructed out of its sight.
 */
function checkBundleCoverage(mainJs) {
  const problems = [];
  if (/\brequire\(\s*["']electron["']\s*\)/.test(mainJs)) problems.push('the main bundle require()s electron (build it as an ES module)');
  for (const match of mainJs.matchAll(/^import\s+([^;]*?)\s+from\s+["']electron["']/gms)) {
    const clause = match[1].trim();
    const named = /^\{([^}]*)\}$/s.exec(clause);
    if (!named) {
      problems.push(`\`import ${clause} from "electron"\`: use named imports, constructions through a namespace go unchecked`);
      continue;
    }
    for (const specifier of named[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      const [imported, local = imported] = specifier.split(/\s+as\s+/);
      if (!WINDOW_CLASSES.includes(imported)) continue;
      if (imported !== 'BrowserWindow') problems.push(`${imported} is imported: the analyser does not check its web preferences (use BrowserWindow)`);
      else if (local !== imported) {
        problems.push(`BrowserWindow is bundled as ${local}: import it as a value in electron/main/windows.ts only (elsewhere \`import type\`)`);
      }
    }
  }
  if (!/\bnew BrowserWindow\(\{/.test(mainJs)) problems.push('no `new BrowserWindow({...})` found in the main bundle');
  return problems;
}

/** The analyser's i18n fetches translations from S3 before every run; use its bundled English. */
function offlineMessages() {
  const i18nPath = require.resolve('@doyensec/electronegativity/dist/locales/i18n.js');
  const i18n = createRequire(i18nPath)('i18n');
  const offline = async () => {
    i18n.configure({ locales: ['en-US'], defaultLocale: 'en-US', directory: dirname(i18nPath), updateFiles: false, objectNotation: true, retryInDefaultLocale: true, register: global });
    i18n.setLocale('en-US');
  };
  const offlineModule = new Module(i18nPath);
  offlineModule.filename = i18nPath;
  offlineModule.loaded = true;
  offlineModule.exports = offline;
  require.cache[i18nPath] = offlineModule;
}

async function lowerInto(source, target) {
  const { code } = await transform(readFileSync(source, 'utf8'), { loader: 'js', target: 'es2017', sourcefile: source, legalComments: 'inline' });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, code);
}

async function stage(dir, renderer) {
  const dist = join(here, 'dist');
  const missing = [];
  const need = (path, hint) => existsSync(path) || missing.push(`${relative(root, path)} (${hint})`);
  need(join(dist, 'main/main.js'), 'npm run build:electron');
  need(join(dist, 'preload/preload.cjs'), 'npm run build:electron');
  need(join(dist, 'preload/prompt.cjs'), 'npm run build:electron');
  need(join(renderer, 'index.html'), 'npm run build:renderer');
  if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')}`);

  /** scanned path -> the built file it stands for */
  const origins = new Map();
  const add = async (source, scanned) => {
    origins.set(scanned, relative(root, source));
    if (source.endsWith('.html') || source.endsWith('.json')) {
      mkdirSync(dirname(join(dir, scanned)), { recursive: true });
      copyFileSync(source, join(dir, scanned));
    } else {
      await lowerInto(source, join(dir, scanned));
    }
  };
  await add(join(root, 'package.json'), 'package.json');
  await add(join(dist, 'main/main.js'), 'main/main.js');
  for (const name of readdirSync(join(dist, 'preload')).filter((f) => f.endsWith('.cjs'))) {
    await add(join(dist, 'preload', name), `preload/${name.replace(/\.cjs$/, '.js')}`);
  }
  await add(join(renderer, 'index.html'), 'renderer/index.html');
  const assets = join(renderer, 'assets');
  for (const name of existsSync(assets) ? readdirSync(assets).filter((f) => /\.(m?js)$/.test(f)) : []) {
    await add(join(assets, name), `renderer/assets/${name.replace(/\.mjs$/, '.js')}`);
  }
  return origins;
}

const pad = (text, width) => String(text).padEnd(width);

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;

  const problems = checkBundleCoverage(readFileSync(join(here, 'dist/main/main.js'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'portico-electronegativity-'));
  try {
    const origins = await stage(dir, options.rendererDist);
    offlineMessages();
    const run = require('@doyensec/electronegativity');
    const excluded = Object.entries(EXCLUDED)
      .filter(([id]) => !(options.online && id === 'AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK'))
      .map(([, name]) => name.toLowerCase());
    const result = await run(
      {
        input: dir,
        output: options.out,
        isSarif: options.out?.endsWith('.sarif') ?? false,
        customScan: [],
        excludeFromScan: excluded,
        isRelative: true,
        electronVersionOverride: electronVersion,
        parserPlugins: [],
      },
      false,
    );

    for (const error of result.errors) {
      problems.push(`${origins.get(relative(dir, error.file)) ?? error.file} was not ${error.tolerable ? 'fully ' : ''}analysed: ${error.message}`);
    }

    const findings = result.issues.map((issue) => ({
      id: issue.id,
      severity: issue.severity.name ?? String(issue.severity),
      confidence: issue.confidence.name ?? String(issue.confidence),
      file: issue.file,
      origin: origins.get(issue.file) ?? issue.file,
      line: issue.location.line,
      column: issue.location.column,
      sample: (issue.sample ?? '').trim(),
      review: !!issue.manualReview,
      description: issue.description,
    }));
    const used = new Set();
    for (const finding of findings) {
      const waiver = WAIVERS.find((w) => waiverMatches(w, finding));
      if (waiver) {
        finding.waived = waiver;
        used.add(waiver);
      }
    }
    for (const waiver of WAIVERS.filter((w) => !used.has(w))) {
      problems.push(`stale waiver: no ${waiver.id} finding${waiver.line ? ` at \`${waiver.line}\`` : ''} in ${waiver.file} any more; remove it from WAIVERS`);
    }

    const failing = findings.filter((f) => FAILING.has(f.severity) && !f.waived);
    const waived = findings.filter((f) => f.waived);
    const passing = findings.filter((f) => !FAILING.has(f.severity) && !f.waived);
    const show = (f) => {
      const where = f.file === 'N/A' ? '(global)' : `${f.origin}  [scanned ${f.file}:${f.line}:${f.column}]`;
      console.log(`  ${pad(f.severity, 13)} ${pad(f.confidence, 9)} ${f.id}${f.review ? ' (review required)' : ''}\n      ${where}`);
      if (f.sample) console.log(`      > ${f.sample.slice(0, 160)}`);
    };

    console.log(`electronegativity ${require('@doyensec/electronegativity/package.json').version}, Electron ${electronVersion}: ` + `${result.atomicChecks} atomic and ${result.globalChecks} global checks over ${origins.size} files`);
    console.log(`excluded checks: ${Object.keys(EXCLUDED).filter((id) => !(options.online && id === 'AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK')).join(', ')} (reasons in electron/check-security.mjs)`);
    if (passing.length > 0) {
      console.log(`\nlow / informational (${passing.length}, pass):`);
      passing.forEach(show);
    }
    if (waived.length > 0) {
      console.log(`\nwaived after review (${waived.length}):`);
      for (const waiver of WAIVERS.filter((w) => used.has(w))) {
        waived.filter((f) => f.waived === waiver).forEach(show);
        console.log(`      why: ${waiver.why}`);
      }
    }
    if (failing.length > 0) {
      console.log(`\nMEDIUM / HIGH (${failing.length}, fail):`);
      for (const f of failing) {
        show(f);
        console.log(`      ${String(f.description).replace(/\s+/g, ' ').slice(0, 300)}`);
      }
    }
    if (problems.length > 0) {
      console.log(`\nnot fully checked (${problems.length}, fail):`);
      for (const p of problems) console.log(`  - ${p}`);
    }
    if (options.out) console.log(`\nreport: ${relative(process.cwd(), options.out)}`);
    if (options.keep) console.log(`scanned copy kept in ${dir}`);
    const ok = failing.length === 0 && problems.length === 0;
    console.log(`\nelectron security check ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`electron security check could not run: ${error.message}`);
  process.exitCode = 2;
});
