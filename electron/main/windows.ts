/**
 * Every window of the panel is constructed here and nowhere else: the docked panel, the chat
 * windows and the small prompt windows. Each construction spells out the complete secure
 * webPreferences as a literal object at the `new BrowserWindow(...)` site, so a reviewer and the
 * static analysis (electronegativity, `npm run check:electron`), which cannot follow a helper
 * function, both see them where the window is made.
 *
 * Keep this the only module that imports BrowserWindow as a value (elsewhere: `import type`).
 * Bundled as one ES module, a second value import would be renamed (BrowserWindow2), and the
 * checker only recognises `new BrowserWindow(...)`; electron/check-security.mjs refuses such a
 * bundle rather than let windows go unchecked.
 *
 * What the preferences mean: the page runs in Chromium's sandbox with no Node.js anywhere
 * (window, workers, sub-frames), the preload talks to it only across the context-isolation
 * boundary, same-origin policy and mixed-content blocking stay on, no experimental web platform
 * features, no <webview>, nothing dropped on the window is navigated to, and a page cannot flood
 * the user with dialogs. Navigation, new windows and permissions are limited per web contents and
 * per session in main.ts (harden, secureSession).
 */
import { BrowserWindow } from 'electron';

/** The panel docked to a screen edge: frameless, kept out of the task bar (it lives in the tray). */
export function createPanelWindow(options: { preload: string; alwaysOnTop: boolean }): BrowserWindow {
  return new BrowserWindow({
    frame: false,
    show: false,
    skipTaskbar: true,
    maximizable: false,
    fullscreenable: false,
    alwaysOnTop: options.alwaysOnTop,
    title: 'Portico',
    backgroundColor: '#f6f6f6',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  });
}

/** The separate window of one chat. */
export function createChatWindow(options: { preload: string }): BrowserWindow {
  return new BrowserWindow({
    width: 420,
    height: 600,
    minWidth: 320,
    minHeight: 360,
    show: false,
    title: 'Portico',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  });
}

/** A small prompt (proxy credentials, the first server address); its page is prompt-page.ts. */
export function createPromptWindow(options: { preload: string; title: string; height: number }): BrowserWindow {
  return new BrowserWindow({
    width: 400,
    height: options.height,
    resizable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    alwaysOnTop: true,
    autoHideMenuBar: true,
    title: options.title,
    show: false,
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  });
}
