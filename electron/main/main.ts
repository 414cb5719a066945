/**
 * The Portico panel's main process: wiring only. Decisions live in the plain modules beside it
 * (config, dock, idle, urls, ipc, trust), which are unit-tested without Electron.
 *
 * Expected build layout (ESM main, CommonJS preloads): <out>/main/main.js,
 * <out>/preload/preload.cjs, <out>/preload/prompt.cjs.
 */
import { app, desktopCapturer, dialog, ipcMain, Menu, nativeImage, net, Notification, powerMonitor, screen, session, shell, Tray, webContents } from 'electron';
import type { BrowserWindow, Session, WebContents } from 'electron';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import electronUpdater from 'electron-updater';
import { INVOKE, PUSH, type ConfigView, type DisplaySource, type InvokeChannel, type NotifyRequest, type PresenceState, type PushChannel } from '../preload/bridge.js';
import { applyLinuxAutostart } from './autostart.js';
import { chooseDisplaySource, DisplayPicker, isCapturePermissionAllowed, isCapturePermissionChecked } from './display-media.js';
import { insecureServerProblem, KEY_SCHEMAS, loadConfig, saveUserSetting, toProxyConfig, userSettingsPath, type Config, type ConfigKey, type ResolvedConfig } from './config.js';
import { adoptGeometry, DockFile, placePanel, withEdge, type DockPlacement } from './dock.js';
import { trayBitmap } from './icon.js';
import { trayLook, trayTooltip } from './tray-look.js';
import { IdleTracker, type IdleOutput } from './idle.js';
import { clientInfo } from './install.js';
import { validateIpc, type IpcPayload } from './ipc.js';
import { registrySource } from './registry.js';
import { fileCredentialStore, prompt, ProxyLogin } from './prompt.js';
import { loopbackSignIn } from './sso-loopback.js';
import { loadFailureMessage, text, type Language } from './text.js';
import { decideTrust, VERIFY_PROC_RESULT } from './trust.js';
import { decideUpdate, manifestName, SIGNATURE_SUFFIX, verifyManifest, type OfferedUpdate, type SignedManifest } from './update-trust.js';
import { appUrl, isAllowedNavigation, isAppUrl, safeExternalUrl } from './urls.js';
import { createChatWindow, createPanelWindow } from './windows.js';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, '../preload/preload.cjs');
const PROMPT_PRELOAD = join(here, '../preload/prompt.cjs');

let resolved: ResolvedConfig;
let config: Config;
let panel: BrowserWindow | null = null;
let placement: DockPlacement | null = null;
let dock: DockFile = { places: {} };
let tray: Tray | null = null;
let presence: PresenceState = 'available';
let unread = 0;
/** Do not disturb until then (ISO), as the panel reports it (PATCH /me keeps it on the server). */
let dndUntil: string | null = null;
let trayTimer: ReturnType<typeof setTimeout> | undefined;
let quitting = false;
let redockedAt = 0;
let proxyLogin: ProxyLogin;
let updaterSession: Session | null = null;
const chats = new Map<string, BrowserWindow>();
const notifications = new Map<string, Notification>();
const idle = new IdleTracker();
/** Pages with a screen source picker, and the questions asked of them (display-media.ts). */
const displayPicker = new DisplayPicker();

const userData = (file: string): string => join(app.getPath('userData'), file);
const language = (): Language => config.language ?? (app.getLocale().toLowerCase().startsWith('ja') ? 'ja' : 'en');
const isLocked = (key: ConfigKey): boolean => resolved.locked.includes(key);

function reloadConfig(): void {
  resolved = loadConfig({
    platform: process.platform,
    env: process.env,
    argv: process.argv,
    userSettingsPath: userSettingsPath(app.getPath('userData')),
    registry: (platform) => registrySource(platform),
  });
  config = resolved.config;
}

const configView = (): ConfigView => ({ config, locked: resolved.locked, errors: resolved.errors });

function send(target: WebContents | undefined, channel: PushChannel, payload?: unknown): void {
  if (target && !target.isDestroyed()) target.send(channel, payload);
}
const appWindows = (): BrowserWindow[] => [panel, ...chats.values()].filter((w): w is BrowserWindow => !!w && !w.isDestroyed());

// ---------- panel and chat windows ----------

function loadDock(): void {
  try {
    dock = DockFile.parse(JSON.parse(readFileSync(userData('dock.json'), 'utf8')));
  } catch {
    dock = { places: {} };
  }
}

function redock(): void {
  if (!panel) return;
  const displays = screen.getAllDisplays().map(({ id, workArea, scaleFactor }) => ({ id, workArea, scaleFactor }));
  placement = placePanel({
    displays,
    primaryId: screen.getPrimaryDisplay().id,
    displayId: dock.displayId,
    memory: dock.places,
    defaultEdge: config.dockEdge,
    lockEdge: isLocked('dockEdge'),
  });
  redockedAt = Date.now();
  panel.setBounds(placement.bounds);
}

function saveDock(): void {
  writeFileSync(userData('dock.json'), JSON.stringify(dock));
}

/** The user moved or resized the panel: remember, then snap it back to its edge. */
function adoptPanelGeometry(): void {
  if (!panel || !placement || Date.now() - redockedAt < 500) return; // our own setBounds, or the window manager's answer to it
  const bounds = panel.getBounds();
  const display = screen.getDisplayMatching(bounds);
  const next = adoptGeometry(placement, bounds, display, dock.places, { lockEdge: isLocked('dockEdge'), lockedEdge: config.dockEdge });
  dock = { displayId: next.displayId, places: next.memory };
  saveDock();
  redock();
}

function createPanel(): void {
  panel = createPanelWindow({ preload: PRELOAD, alwaysOnTop: config.alwaysOnTop });
  redock();
  let settle: NodeJS.Timeout | undefined;
  const later = (): void => {
    clearTimeout(settle);
    settle = setTimeout(adoptPanelGeometry, 400);
  };
  panel.on('move', later);
  panel.on('resize', later);
  panel.on('close', (event) => {
    if (quitting) return;
    event.preventDefault(); // closing hides: the panel stays resident in the tray
    panel?.hide();
  });
  panel.on('closed', () => (panel = null));
  panel.once('ready-to-show', () => panel?.show());
  // A page that cannot load (no network, an untrusted certificate) is said in words, with Retry:
  // never a blank panel, never a bypass.
  panel.webContents.on('did-fail-load', (_event, errorCode, description, _url, isMainFrame) => {
    if (!isMainFrame || errorCode === -3 /* ABORTED: a newer load replaced it */ || !config.serverUrl) return;
    const t = text(language());
    panel?.show();
    void dialog
      .showMessageBox({ type: 'error', title: t.loadFailedTitle, message: t.loadFailedTitle, detail: loadFailureMessage(t, config.serverUrl, errorCode, description), buttons: [t.retry, t.quit], defaultId: 0, cancelId: 1 })
      .then(({ response }) => (response === 0 ? panel?.loadURL(appUrl(config.serverUrl!)) : app.quit()));
  });
  if (config.serverUrl) void panel.loadURL(appUrl(config.serverUrl));
}

function showPanel(): void {
  if (!panel) createPanel();
  panel?.show();
  panel?.focus();
}

/** One window per chat: `<server>/app/#/chat/<id>`. */
function openChat(chatId: string): void {
  const existing = chats.get(chatId);
  if (existing && !existing.isDestroyed()) {
    existing.show();
    existing.focus();
    return;
  }
  if (!config.serverUrl) return;
  const win = createChatWindow({ preload: PRELOAD });
  chats.set(chatId, win);
  win.on('closed', () => chats.delete(chatId));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${appUrl(config.serverUrl)}#/chat/${encodeURIComponent(chatId)}`);
}

/**
 * The one place a URL is handed to the system (browser, mail program): only what the allow-list
 * safeExternalUrl lets through (http:, https:, mailto:, no credentials), checked right here even
 * when the caller checked before.
 */
function openExternally(url: unknown): Promise<void> {
  const safe = safeExternalUrl(url);
  if (safe === null) return Promise.reject(new Error('only http:, https: and mailto: URLs without credentials may be opened'));
  return shell.openExternal(safe);
}

/** Every web contents: no new windows, no navigation away from the app, no <webview>. */
function harden(contents: WebContents): void {
  const routeOutside = (url: string): void => {
    if (isAppUrl(url, config.serverUrl) || safeExternalUrl(url) === null) return;
    openExternally(url).catch((error: unknown) => console.warn(`could not open ${url} externally: ${String(error)}`));
  };
  contents.setWindowOpenHandler(({ url }) => {
    routeOutside(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAllowedNavigation(event.url, config.serverUrl)) return;
    event.preventDefault();
    routeOutside(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (event.isMainFrame && !isAllowedNavigation(event.url, config.serverUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

// ---------- tray, presence, notifications ----------

function updateTray(): void {
  if (!tray) return;
  const t = text(language());
  const input = { presence, unread, dndUntil, now: Date.now() };
  const look = trayLook(input);
  tray.setImage(nativeImage.createFromBitmap(trayBitmap(look.disc, unread, 32, look.dnd), { width: 32, height: 32, scaleFactor: 2 }));
  tray.setToolTip(trayTooltip(input, t, (iso) => new Date(iso).toLocaleTimeString(language() === 'ja' ? 'ja-JP' : 'en-US', { hour: 'numeric', minute: '2-digit' })));
  // Do-not-disturb runs out by itself: draw again then.
  clearTimeout(trayTimer);
  if (look.changesAt !== undefined) trayTimer = setTimeout(updateTray, Math.min(look.changesAt - Date.now() + 100, 2 ** 30));
  const states: PresenceState[] = ['available', 'away', 'busy', 'offline'];
  tray.setContextMenu(
    Menu.buildFromTemplate([
      ...states.map((state) => ({ label: t.presence[state], type: 'radio' as const, checked: presence === state, click: () => choosePresence(state) })),
      { type: 'separator' },
      { label: t.openPanel, click: showPanel },
      { label: t.quit, click: quit },
    ]),
  );
}

function applyIdle(output: IdleOutput): void {
  if (output.presence) {
    presence = output.presence;
    updateTray();
    const reason = output.reason === 'choice' || output.reason === null ? 'tray' : output.reason;
    send(panel?.webContents, PUSH.presenceSuggestion, { state: output.presence, reason });
  }
  if (output.pollNow) for (const win of appWindows()) send(win.webContents, PUSH.pollNow);
}

const choosePresence = (state: PresenceState): void => applyIdle(idle.handle({ type: 'choose', state }));

function watchPower(): void {
  idle.handle({ type: 'idle-minutes', minutes: config.idleMinutes });
  powerMonitor.on('lock-screen', () => applyIdle(idle.handle({ type: 'lock' })));
  powerMonitor.on('unlock-screen', () => applyIdle(idle.handle({ type: 'unlock' })));
  powerMonitor.on('suspend', () => applyIdle(idle.handle({ type: 'suspend' })));
  powerMonitor.on('resume', () => applyIdle(idle.handle({ type: 'resume' })));
  let online = net.isOnline();
  setInterval(() => {
    applyIdle(idle.handle({ type: 'idle-time', seconds: powerMonitor.getSystemIdleTime() }));
    if (net.isOnline() !== online) {
      online = !online;
      applyIdle(idle.handle({ type: 'network', online }));
    }
  }, 10_000);
}

function notify(request: NotifyRequest, sender: WebContents): void {
  if (!Notification.isSupported()) return;
  const t = text(language());
  notifications.get(request.tag)?.close();
  const actions = request.actions ?? [];
  const notification = new Notification({
    title: request.title,
    body: request.body ?? '',
    actions: actions.map((action) => ({ type: 'button' as const, text: t[action] })),
  });
  const report = (action: string): void => send(sender, PUSH.notificationAction, { tag: request.tag, action });
  notification.on('click', () => report('click'));
  notification.on('action', (event) => {
    const action = actions[event.actionIndex];
    if (action) report(action);
  });
  notification.on('close', () => {
    if (notifications.get(request.tag) === notification) notifications.delete(request.tag);
  });
  notifications.set(request.tag, notification);
  notification.show();
}

// ---------- session: trust, permissions, proxy ----------

type VerifyProc = NonNullable<Parameters<Session['setCertificateVerifyProc']>[0]>;

/**
 * The certificate verify procedure: trust.ts decides (what Chromium verified stands; otherwise
 * only the configured server's chain up to the pinned organisation CA; everything else refused).
 * There is no "accept all" path and no other verify procedure.
 */
const verifyCertificate: VerifyProc = (request, callback) => {
  const decision = decideTrust(request, config);
  if (decision.verdict !== 'chromium') console.warn(`certificate for ${request.hostname}: ${decision.verdict} (${decision.reason})`);
  callback(VERIFY_PROC_RESULT[decision.verdict]);
};

function secureSession(ses: Session): void {
  ses.setCertificateVerifyProc(verifyCertificate);
  ses.setPermissionRequestHandler((contents, permission, callback, details) => {
    const types = 'mediaTypes' in details ? (details.mediaTypes ?? []) : [];
    callback(isCapturePermissionAllowed(permission, details.requestingUrl || contents.getURL(), config.serverUrl, types));
  });
  ses.setPermissionCheckHandler((_contents, permission, origin) => isCapturePermissionChecked(permission, origin, config.serverUrl));
  // getDisplayMedia (screen sharing in a call): display-media.ts decides (the page's own picker when it has one); no audio.
  ses.setDisplayMediaRequestHandler((request, callback) => {
    const contents = request.frame ? webContents.fromFrame(request.frame) : undefined;
    const ask = contents && displayPicker.hasPicker(contents.id) ? (offer: DisplaySource[]) => displayPicker.ask(contents.id, offer, (r) => {
            if (contents.isDestroyed()) throw new Error('the page is gone');
            send(contents, PUSH.displaySourceRequest, r);
          }) : undefined;
    void desktopCapturer
      .getSources({ types: ['screen', 'window'], thumbnailSize: { width: 320, height: 180 } })
      .then((sources) => chooseDisplaySource({ frameUrl: request.frame?.url, securityOrigin: request.securityOrigin, videoRequested: request.videoRequested }, config.serverUrl, sources, ask))
      .then((decision) => {
        if (!decision.allow && decision.reason !== 'cancelled') console.warn(`screen share refused: ${decision.reason}`);
        callback(decision.allow ? { video: decision.source } : {});
      })
      .catch((error: unknown) => {
        console.warn('screen share: no sources', error);
        callback({});
      });
  });
}

function applyAutoStart(): void {
  if (!app.isPackaged) return; // never register a development build
  if (process.platform === 'linux') {
    const command = process.env.APPIMAGE ? [process.env.APPIMAGE] : [process.execPath];
    applyLinuxAutostart(config.autoStart, command, process.env.XDG_CONFIG_HOME || join(homedir(), '.config'));
  } else {
    app.setLoginItemSettings({ openAtLogin: config.autoStart });
  }
}

// ---------- IPC ----------

function handle<C extends InvokeChannel>(channel: C, run: (payload: IpcPayload<C>, sender: WebContents) => unknown): void {
  ipcMain.handle(channel, async (event, payload: unknown) => {
    const frame = event.senderFrame;
    const checked = validateIpc(channel, frame?.url, payload, config.serverUrl, { locked: resolved.locked, isMainFrame: !!frame && frame.parent === null });
    if (!checked.ok) {
      console.warn(`IPC refused: ${checked.error}`);
      throw new Error(checked.error);
    }
    return run(checked.payload, event.sender);
  });
}

async function changeSetting(key: ConfigKey, value: unknown): Promise<ConfigView> {
  const before = config;
  const insecure = key === 'serverUrl' && typeof value === 'string' ? insecureServerProblem(value, config.allowInsecureServer) : undefined;
  if (insecure) throw new Error(`serverUrl ${insecure}`);
  saveUserSetting(userSettingsPath(app.getPath('userData')), key, value);
  reloadConfig();
  if (config.proxy !== before.proxy) {
    await session.defaultSession.setProxy(toProxyConfig(config.proxy));
    if (updaterSession) await updaterSession.setProxy(toProxyConfig(config.proxy));
  }
  if (config.autoStart !== before.autoStart) applyAutoStart();
  if (config.alwaysOnTop !== before.alwaysOnTop) panel?.setAlwaysOnTop(config.alwaysOnTop);
  if (config.idleMinutes !== before.idleMinutes) idle.handle({ type: 'idle-minutes', minutes: config.idleMinutes });
  if (config.dockEdge !== before.dockEdge && placement) {
    dock = { ...dock, places: withEdge(dock.places, placement.displayId, config.dockEdge) };
    saveDock();
    redock();
  }
  if (config.language !== before.language) updateTray();
  if (config.serverUrl !== before.serverUrl && config.serverUrl) {
    for (const win of chats.values()) win.close();
    void panel?.loadURL(appUrl(config.serverUrl));
  }
  const view = configView();
  for (const win of appWindows()) send(win.webContents, PUSH.configChanged, view);
  return view;
}

function registerIpc(): void {
  handle(INVOKE.openExternal, ({ url }) => openExternally(url));
  handle(INVOKE.notify, (request, sender) => notify(request, sender));
  handle(INVOKE.setBadge, ({ count }) => {
    unread = count;
    app.setBadgeCount(count);
    updateTray();
  });
  handle(INVOKE.presenceChanged, ({ state, byUser }) => {
    if (byUser) idle.handle({ type: 'choose', state });
    presence = state;
    updateTray();
  });
  handle(INVOKE.dndChanged, ({ until }) => {
    dndUntil = until;
    updateTray();
  });
  handle(INVOKE.getConfig, () => configView());
  handle(INVOKE.setSetting, ({ key, value }) => changeSetting(key as ConfigKey, value));
  handle(INVOKE.openChat, ({ chatId }) => openChat(chatId));
  handle(INVOKE.quit, () => quit());
  // Single sign-on in the system browser, back through a loopback listener (sso-loopback.ts).
  handle(INVOKE.ssoSignIn, () => {
    if (!config.serverUrl) throw new Error('no server configured');
    return loopbackSignIn({ serverUrl: config.serverUrl, open: openExternally });
  });
  // Screen sharing: the page's source picker (display-media.ts checks each answer).
  handle(INVOKE.displayPicker, ({ on }, sender) => {
    displayPicker.setPicker(sender.id, on);
    if (on) sender.once('destroyed', () => displayPicker.drop(sender.id));
  });
  handle(INVOKE.displaySourceChosen, ({ requestId, sourceId }, sender) => {
    if (!displayPicker.answer(sender.id, requestId, sourceId)) throw new Error('display-source-chosen: not a source offered to this page');
  });
  handle(INVOKE.clientInfo, () => clientInfo({ userDataDir: app.getPath('userData'), version: app.getVersion(), platform: process.platform }));
}

// ---------- updates ----------

const UPDATE_CHECK_EVERY_MS = 6 * 60 * 60 * 1000;
/** The session partition electron-updater makes its requests in (its NET_SESSION_NAME). */
const UPDATER_PARTITION = 'electron-updater';

/** Largest manifest or signature fetched (bytes); electron-builder's are a few hundred. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * One file from the update folder in the updater's session (its proxy, its certificate check,
 * the proxy login as for electron-updater). Undefined when the server has no such file (404).
 */
function fetchUpdateFile(url: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const request = net.request({ url, session: updaterSession!, cache: 'no-store' });
    let attempts = 0;
    request.on('login', (authInfo, callback) => {
      if (!authInfo.isProxy) return callback();
      proxyLogin.credentials(authInfo, attempts++ === 0).then(
        (credentials) => (credentials ? callback(credentials.username, credentials.password) : callback()),
        () => callback(),
      );
    });
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        response.on('data', () => undefined);
        return response.statusCode === 404 ? resolve(undefined) : reject(new Error(`${url} answered ${response.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_MANIFEST_BYTES) {
          request.abort();
          reject(new Error(`${url} is larger than ${MAX_MANIFEST_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Client updates from the Portico server itself: electron-updater's generic provider at
 * `<serverUrl>/updates/`, checked at start and every 6 hours, downloaded in the background and
 * installed when the app quits. Errors are only logged (the next check tries again).
 *
 * Trust (update-trust.ts): with `updatePublicKey` pinned in the admin configuration, each check
 * first fetches this platform's manifest and its `.sig` and verifies them; an unsigned or wrongly
 * signed manifest means no check at all. electron-updater's offer must then be exactly what the
 * signed manifest says (version and every file's sha512; electron-updater checks the download
 * against that sha512), and an older version needs the signed downgrade flag. Without a pinned
 * key, updates are trusted as far as the connection (https and its certificate check), newer
 * versions only, and refused over http://; the log says so at every check.
 *
 * electron-updater uses Electron's net module, so Chromium's network stack and the session's
 * proxy settings apply, as for the panel. It makes its requests in its own session partition
 * ("electron-updater"), not the default session: that session gets the same proxy
 * configuration and certificate verification (the pinned organisation CA) here, and a proxy's
 * demand for credentials is answered like the panel's (the stored or prompted proxy login).
 */
async function startUpdates(): Promise<void> {
  if (config.updates.enabled === false || !app.isPackaged) return; // never update a development build
  updaterSession = session.fromPartition(UPDATER_PARTITION, { cache: false });
  secureSession(updaterSession);
  await updaterSession.setProxy(toProxyConfig(config.proxy));
  const { autoUpdater } = electronUpdater;
  autoUpdater.autoDownload = false; // downloaded below, once decideUpdate agrees
  autoUpdater.autoInstallOnAppQuit = true;
  // electron-updater then reports any other version; decideUpdate refuses a downgrade unless signed as one.
  autoUpdater.allowDowngrade = true;
  /** The manifest verified before the current check (undefined: no pinned key). */
  let signed: SignedManifest | undefined;
  let proxyAttempts = 0;
  autoUpdater.on('login', (authInfo, typedCallback) => {
    // Electron's net 'login' callback: no arguments cancels (electron-updater's type demands two)
    const callback = typedCallback as (username?: string, password?: string) => void;
    if (!authInfo.isProxy) return callback();
    proxyLogin.credentials(authInfo, proxyAttempts++ === 0).then(
      (credentials) => (credentials ? callback(credentials.username, credentials.password) : callback()),
      () => callback(),
    );
  });
  autoUpdater.on('error', (error: Error) => console.warn(`update: ${error.message}`));
  autoUpdater.on('update-not-available', () => (proxyAttempts = 0));
  autoUpdater.on('update-available', (info: OfferedUpdate) => {
    proxyAttempts = 0; // the proxy accepted the credentials: next time, the stored ones first again
    const pin = config.updates.pinVersion;
    if (pin && info.version !== pin) {
      console.warn(`update: ${info.version} offered, held at ${pin} by the configuration`);
      return;
    }
    const verdict = decideUpdate({ currentVersion: app.getVersion(), offered: info, signed });
    if (!verdict.ok) {
      console.warn(`update: ${info.version} refused, nothing downloaded: ${verdict.reason}`);
      return;
    }
    autoUpdater.downloadUpdate().catch((error: unknown) => console.warn(`update: download failed: ${String(error)}`));
  });
  autoUpdater.on('update-downloaded', (info: { version: string }) => console.warn(`update: ${info.version} downloaded, installs on quit`));
  const check = async (): Promise<void> => {
    if (config.updates.enabled === false || !config.serverUrl) return;
    const base = `${config.serverUrl.replace(/\/+$/, '')}/updates/`;
    const key = config.updatePublicKey;
    if (key) {
      const name = manifestName(process.platform, process.arch);
      const manifest = await fetchUpdateFile(base + name);
      if (!manifest) return; // nothing published for this platform
      const signature = await fetchUpdateFile(base + name + SIGNATURE_SUFFIX);
      const verdict = verifyManifest(manifest, signature?.toString('utf8'), key);
      if (!verdict.ok) {
        console.warn(`update: ${name} refused, not checked further: ${verdict.reason}`);
        return;
      }
      signed = verdict.value;
    } else if (!config.serverUrl.startsWith('https://')) {
      console.warn('update: no updatePublicKey pinned and the server is not https://: updates refused (nothing would vouch for them)');
      return;
    } else {
      signed = undefined;
      console.warn(
        'update: no updatePublicKey pinned in the machine-wide configuration: updates are trusted as far as the connection to the server (https and its certificate), newer versions only',
      );
    }
    autoUpdater.setFeedURL({ provider: 'generic', url: base });
    await autoUpdater.checkForUpdates();
  };
  const run = (): void => void check().catch((error: unknown) => console.warn(`update: check failed: ${String(error)}`));
  run();
  setInterval(run, UPDATE_CHECK_EVERY_MS).unref();
}

// ---------- lifecycle ----------

function quit(): void {
  quitting = true;
  app.quit();
}

/** No server configured (and not locked to nothing): ask once, keep it in the user settings. */
async function askServerUrl(): Promise<void> {
  if (config.serverUrl || isLocked('serverUrl')) return;
  const t = text(language());
  const answer = await prompt(
    { title: t.serverTitle, message: t.serverMessage, fields: [{ name: 'serverUrl', label: t.serverLabel, type: 'url', value: 'https://' }], submit: t.ok, cancel: t.cancel, lang: language() },
    PROMPT_PRELOAD,
  );
  const parsed = KEY_SCHEMAS.serverUrl.safeParse(answer?.serverUrl);
  const url = parsed.success ? parsed.data : undefined;
  const insecure = url === undefined ? undefined : insecureServerProblem(url, config.allowInsecureServer);
  if (url !== undefined && insecure) {
    console.warn(`server URL ${url} refused: ${insecure}`);
    await dialog.showMessageBox({ type: 'error', title: 'Portico', message: url, detail: `The server URL ${insecure}.` });
    return;
  }
  if (parsed.success) {
    saveUserSetting(userSettingsPath(app.getPath('userData')), 'serverUrl', parsed.data);
    reloadConfig();
  }
}

async function start(): Promise<void> {
  reloadConfig();
  const t = text(language());
  if (resolved.errors.length > 0) {
    console.warn(`${t.configProblems}:\n${resolved.errors.join('\n')}`);
    void dialog.showMessageBox({ type: 'warning', title: 'Portico', message: t.configProblems, detail: resolved.errors.join('\n') });
  }
  secureSession(session.defaultSession);
  await session.defaultSession.setProxy(toProxyConfig(config.proxy));
  proxyLogin = new ProxyLogin(fileCredentialStore(userData('proxy-credentials.json')), PROMPT_PRELOAD, language);
  app.on('login', (event, _contents, details, authInfo, callback) => {
    if (!authInfo.isProxy) return; // the server authenticates with bearer tokens, never basic auth
    event.preventDefault();
    proxyLogin.credentials(authInfo, details.firstAuthAttempt).then(
      (credentials) => (credentials ? callback(credentials.username, credentials.password) : callback()),
      () => callback(),
    );
  });
  applyAutoStart();
  registerIpc();
  tray = new Tray(nativeImage.createFromBitmap(trayBitmap(presence, unread), { width: 32, height: 32, scaleFactor: 2 }));
  tray.on('click', showPanel);
  updateTray();
  await askServerUrl();
  if (!config.serverUrl) void dialog.showMessageBox({ type: 'error', title: 'Portico', message: t.noServer });
  loadDock();
  createPanel();
  screen.on('display-added', redock);
  screen.on('display-removed', redock);
  screen.on('display-metrics-changed', redock);
  watchPower();
  startUpdates().catch((error: unknown) => console.warn(`update: not started: ${String(error)}`));
}

app.enableSandbox();
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showPanel);
  app.on('web-contents-created', (_event, contents) => harden(contents));
  app.on('window-all-closed', () => {
    /* stay resident in the tray */
  });
  app.on('before-quit', () => (quitting = true));
  app.whenReady().then(start, (error: unknown) => {
    console.error(error);
    app.exit(1);
  });
}
