/** The few words the main process shows itself (tray, notifications, prompts), in English and Japanese. */
import type { PresenceState } from '../preload/bridge.js';

export type Language = 'en' | 'ja';

const en = {
  presence: { available: 'Available', away: 'Away', busy: 'Busy', offline: 'Appear offline' } as Record<PresenceState, string>,
  openPanel: 'Open panel',
  quit: 'Quit Portico',
  unread: (n: number) => `${n} unread`,
  dndUntil: (time: string) => `do not disturb until ${time}`,
  accept: 'Accept',
  decline: 'Decline',
  ok: 'OK',
  cancel: 'Cancel',
  username: 'User name',
  password: 'Password',
  proxyTitle: 'Proxy sign-in',
  proxyMessage: (proxy: string, realm: string) => `The proxy ${proxy} asks for a sign-in${realm ? ` (${realm})` : ''}.`,
  serverTitle: 'Portico server',
  serverMessage: 'Enter the address of your Portico server (ask your administrator).',
  serverLabel: 'Server address',
  configProblems: 'Some Portico settings were ignored',
  noServer: 'No Portico server is configured. Ask your administrator.',
  retry: 'Retry',
  loadFailedTitle: 'Portico cannot open the panel',
  certificateFailed: (server: string, reason: string) =>
    `The certificate of ${server} is not trusted (${reason}). Portico does not bypass this: ask your administrator to check the server certificate and the CA fingerprint in the Portico configuration.`,
  networkFailed: (server: string, reason: string) => `${server} cannot be reached (${reason}). Check the network or proxy settings, then retry.`,
};

const ja: typeof en = {
  presence: { available: '連絡可能', away: '退席中', busy: '取り込み中', offline: 'オフライン表示' },
  openPanel: 'パネルを開く',
  quit: 'Portico を終了',
  unread: (n) => `未読 ${n} 件`,
  dndUntil: (time) => `${time} まで通知を停止中`,
  accept: '承諾',
  decline: '辞退',
  ok: 'OK',
  cancel: 'キャンセル',
  username: 'ユーザー名',
  password: 'パスワード',
  proxyTitle: 'プロキシ認証',
  proxyMessage: (proxy, realm) => `プロキシ ${proxy} がサインインを求めています${realm ? `（${realm}）` : ''}。`,
  serverTitle: 'Portico サーバー',
  serverMessage: 'Portico サーバーのアドレスを入力してください（管理者にお問い合わせください）。',
  serverLabel: 'サーバーのアドレス',
  configProblems: 'Portico の設定の一部が無視されました',
  noServer: 'Portico サーバーが設定されていません。管理者にお問い合わせください。',
  retry: '再試行',
  loadFailedTitle: 'Portico パネルを開けません',
  certificateFailed: (server, reason) =>
    `${server} の証明書は信頼されていません（${reason}）。Portico はこれを無視しません。サーバー証明書と Portico 設定の CA フィンガープリントを管理者に確認してください。`,
  networkFailed: (server, reason) => `${server} に接続できません（${reason}）。ネットワークまたはプロキシの設定を確認して再試行してください。`,
};

export type Text = typeof en;
export function text(language: Language): Text {
  return language === 'ja' ? ja : en;
}

/** Chromium's net error codes -200..-299 are certificate errors. */
export const isCertificateError = (errorCode: number) => errorCode <= -200 && errorCode > -300;

/** What the user is told when the panel page cannot load. */
export function loadFailureMessage(t: Text, server: string, errorCode: number, description: string): string {
  return isCertificateError(errorCode) ? t.certificateFailed(server, description) : t.networkFailed(server, description);
}
