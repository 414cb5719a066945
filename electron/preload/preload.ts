/**
 * The one bridge between the renderer app and the main process: `window.portico`.
 * Each method invokes one fixed channel; listeners get the payload only, never the IPC event, and
 * nothing of ipcRenderer itself is exposed. The main process validates every call again.
 *
 * Sandboxed preloads cannot be ES modules nor load files: electron/build.mjs (npm run
 * build:electron) bundles this, with bridge.ts, to the single CommonJS file
 * electron/dist/preload/preload.cjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { INVOKE, PUSH, type DisplaySourceRequest, type PorticoBridge, type PushChannel } from './bridge.js';

function listen<T>(channel: PushChannel, callback: (payload: T) => void): () => void {
  if (typeof callback !== 'function') throw new TypeError('callback must be a function');
  const listener = (_event: Electron.IpcRendererEvent, payload: T): void => callback(payload);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const bridge: PorticoBridge = {
  openExternal: (url) => ipcRenderer.invoke(INVOKE.openExternal, { url }),
  notify: (request) =>
    ipcRenderer.invoke(INVOKE.notify, {
      title: request.title,
      body: request.body,
      tag: request.tag,
      actions: request.actions,
    }),
  setBadge: (count) => ipcRenderer.invoke(INVOKE.setBadge, { count }),
  presenceChanged: (state, byUser) => ipcRenderer.invoke(INVOKE.presenceChanged, { state, byUser }),
  dndChanged: (until) => ipcRenderer.invoke(INVOKE.dndChanged, { until }),
  getConfig: () => ipcRenderer.invoke(INVOKE.getConfig),
  setSetting: (key, value) => ipcRenderer.invoke(INVOKE.setSetting, { key, value }),
  openChat: (chatId) => ipcRenderer.invoke(INVOKE.openChat, { chatId }),
  quit: () => ipcRenderer.invoke(INVOKE.quit),
  clientInfo: () => ipcRenderer.invoke(INVOKE.clientInfo),
  ssoSignIn: () => ipcRenderer.invoke(INVOKE.ssoSignIn),
  onPresenceSuggestion: (callback) => listen(PUSH.presenceSuggestion, callback),
  onPollNow: (callback) => listen<void>(PUSH.pollNow, () => callback()),
  onNotificationAction: (callback) => listen(PUSH.notificationAction, callback),
  onConfigChanged: (callback) => listen(PUSH.configChanged, callback),
  onDisplaySourceRequest: (handler) => {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    const off = listen<DisplaySourceRequest>(PUSH.displaySourceRequest, (request) => {
      // Whatever the handler does (throws, answers junk), main gets an id or null, and checks it again.
      void Promise.resolve()
        .then(() => handler(request.sources))
        .catch(() => null)
        .then((id) => ipcRenderer.invoke(INVOKE.displaySourceChosen, { requestId: request.requestId, sourceId: typeof id === 'string' ? id : null }))
        .catch(() => {}); // refused by main (an id it did not offer): nothing is shared
    });
    ipcRenderer.invoke(INVOKE.displayPicker, { on: true }).catch(() => {});
    return () => {
      off();
      ipcRenderer.invoke(INVOKE.displayPicker, { on: false }).catch(() => {});
    };
  },
};

contextBridge.exposeInMainWorld('portico', bridge);
