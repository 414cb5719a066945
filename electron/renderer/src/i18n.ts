/**
 * The panel's words in English and Japanese. The language comes from a setting (stored, or the
 * administrator's config in Electron), else from navigator.language. `t(key, vars)` fills {name}
 * placeholders; the dictionaries must have the same keys (the Japanese one is typed by the English).
 */
const en = {
  appName: 'Portico',
  loading: 'Loading…',
  // login
  signInTitle: 'Sign in to Portico',
  server: 'Server',
  userId: 'User ID',
  password: 'Password',
  rememberMe: 'Remember me on this computer',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signOut: 'Sign out',
  loginFailed: 'Sign-in failed: {message}',
  badCredentials: 'The user ID or password is not right.',
  sessionEnded: 'Your session ended. Please sign in again.',
  // status
  myStatus: 'My status',
  available: 'Available',
  away: 'Away',
  busy: 'Busy',
  offline: 'Offline',
  appearOffline: 'Appear offline',
  // connection
  connection: 'Connection',
  online: 'Online',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  connOffline: 'Offline',
  modeLong: 'live',
  modeInterval: 'interval',
  // settings
  settings: 'Settings',
  language: 'Language',
  polling: 'Updates',
  pollingAuto: 'Automatic',
  pollingLong: 'Live (held requests)',
  pollingInterval: 'Every {seconds} s (intermittent link)',
  // contacts
  contacts: 'Contacts',
  noContacts: 'No contacts yet. Your administrator can add some.',
  selectContact: 'Select {name}',
  chatWith: 'Chat with {name}',
  startChat: 'Chat',
  startChatWith: 'Start a chat with {count} selected',
  requestSent: 'Chat request sent to {names}.',
  presenceOf: '{name}: {state}',
  // chats
  conversations: 'Conversations',
  waiting: 'waiting for an answer',
  unread: '{count} unread',
  chatRequest: 'Chat request',
  chatRequestFrom: '{name} wants to chat',
  chatRequestGroup: '{name} invites you to a group chat with {others}',
  accept: 'Accept',
  decline: 'Decline',
  declined: '{name} declined the chat.',
  left: '{name} left the chat.',
  chatClosed: 'This chat has ended.',
  // chat window
  chatTitle: 'Chat with {names}',
  back: 'Back to the panel',
  popOut: 'Open in its own window',
  leave: 'Leave',
  members: 'Members',
  memberInvited: 'invited',
  memberAccepted: 'in the chat',
  memberDeclined: 'declined',
  memberLeft: 'left',
  messages: 'Messages',
  loadEarlier: 'Load earlier messages',
  beginning: 'This is the beginning of the conversation.',
  typeMessage: 'Message',
  typeHint: 'Enter sends, Shift+Enter makes a new line',
  typePlaceholder: 'Write a message…',
  send: 'Send',
  sending: 'Sending…',
  sent: 'Sent',
  failed: 'Not sent',
  retry: 'Retry',
  emoji: 'Emoji',
  attachFile: 'Attach a file',
  attachments: 'Files to send',
  uploading: 'Uploading {name}',
  uploadFailed: 'Upload failed: {message}',
  removeFile: 'Remove {name}',
  download: 'Download',
  lastMessage: 'Last message',
  addEmoji: 'Add emoji',
  edit: 'Edit',
  deleteMessage: 'Delete',
  deleteConfirmTitle: 'Delete message',
  deleteConfirm: 'Delete this message? This cannot be undone.',
  edited: '(edited)',
  messageDeleted: 'This message was deleted',
  editHint: 'Enter to save, Escape to cancel',
  addReaction: 'Add reaction',
  reactWith: 'React with {emoji}',
  reactedBy: '{names} reacted with {emoji}',
  messageActions: 'Message actions',
  discard: 'Discard',
  typing: '{name} is typing…',
  typingMany: '{names} are typing…',
  seen: 'Seen',
  waitingAccept: 'Waiting for {names} to accept',
  tooLong: '{count} characters too many',
  charsLeft: '{count} left',
  you: 'You',
  chatNotFound: 'This chat could not be opened: {message}',
  signInFirst: 'Sign in in the Portico panel first, then open this chat again.',
  newMessageFrom: 'New message from {name}',
  // ticker
  ticker: 'News ticker',
  tickerEmpty: 'No news right now.',
  pause: 'Pause',
  play: 'Play',
  // media
  media: 'Media',
  mediaButtons: 'What the media area shows',
  video: 'Video',
  images: 'Images',
  music: 'Music',
  charts: 'Charts',
  games: 'Games',
  noVideo: 'No videos right now.',
  noImages: 'No images right now.',
  noMusic: 'No music right now.',
  noCharts: 'No charts right now.',
  noGames: 'No games right now.',
  previous: 'Previous',
  next: 'Next',
  itemOf: '{index} of {count}',
  series: 'Series',
  // notices, links
  notices: 'Messages',
  noNotices: 'No messages.',
  more: 'More…',
  links: 'Links',
  noLinks: 'No links yet.',
  opensExternally: '(opens in your browser)',
  error: 'Something went wrong: {message}',
  dismiss: 'Dismiss',
  // calls
  call: 'Call',
  callWith: 'Video call with {names}',
  incomingCall: 'Incoming call',
  incomingCallFrom: '{name} is calling',
  callRinging: 'Calling {names}…',
  callConnecting: 'Connecting…',
  callConnected: 'In a call with {names}',
  hangUp: 'Hang up',
  mute: 'Mute',
  unmute: 'Unmute',
  cameraOff: 'Camera off',
  cameraOn: 'Camera on',
  camera: 'Camera',
  microphone: 'Microphone',
  devices: 'Devices',
  callPath: 'Connection: {path}',
  pathDirect: 'Direct',
  pathTurn: 'Relayed (TURN)',
  pathHttp: 'Via Portico server (HTTP)',
  selfView: 'You',
  remoteView: 'Video of {names}',
  callDeclinedBy: '{name} declined the call.',
  callMissedBy: '{name} did not answer.',
  callEndedFailed: 'The call could not connect on any path and was ended.',
  noDevices: 'Camera or microphone not available: {message}',
  calleeOffline: '{names} is offline: call again when they are online.',
  calleeBusy: '{names} is on another call.',
  callInProgress: 'Hang up the current call first.',
  callLineMissed: 'Missed call',
  callLineDeclined: 'Declined call',
  callLineCompleted: 'Call, {duration}',
  // issue 17: the panel as a daily home
  contactAdded: '{name} is now in your contacts.',
  contactRemoved: '{name} was removed from your contacts.',
  offlineBanner: 'Offline — messages will be sent when you reconnect',
  retryIn: 'Next try in {seconds} s',
  retrying: 'Trying again…',
  retryNow: 'Retry now',
  groupOnline: '{count} of {total} online',
  onlineNames: 'Online: {names}',
  chatAction: 'Chat with',
  addPeople: 'Add people',
  searchPeople: 'Find people',
  searchLabel: 'Search the directory',
  searchPlaceholder: 'Name or user ID',
  add: 'Add',
  addName: 'Add {name} to my contacts',
  inContacts: 'In your contacts',
  noMatches: 'Nobody found.',
  removeContact: 'Remove {name} from my contacts',
  viaGroups: 'via {groups}',
  close: 'Close',
  tickerSettings: 'Ticker',
  tickerChannels: 'Channels to show, in order',
  tickerDefault: 'None ticked: the default channels are shown.',
  tickerSpeed: 'Scroll speed',
  speedSlow: 'Slow',
  speedNormal: 'Normal',
  speedFast: 'Fast',
  moveUp: 'Move {name} up',
  moveDown: 'Move {name} down',
  save: 'Save',
  cancel: 'Cancel',
  saved: 'Saved.',
  leaveConfirm: 'Leave this chat? You will no longer get its messages.',
  leftLine: '{name} left the chat',
  declinedLine: '{name} declined the chat',
  pickChat: 'Choose a person or a conversation to chat.',
  jumpHint: 'Ctrl+K finds a person or a chat.',
  jumpTo: 'Go to a person or chat',
  jumpPlaceholder: 'Type a name…',
  refreshing: 'Updating…',
  loadingContacts: 'Loading contacts…',
  today: 'Today',
  yesterday: 'Yesterday',
};

export type Key = keyof typeof en;
export type Language = 'en' | 'ja';

const ja: Record<Key, string> = {
  appName: 'Portico',
  loading: '読み込み中…',
  signInTitle: 'Portico にサインイン',
  server: 'サーバー',
  userId: 'ユーザー ID',
  password: 'パスワード',
  rememberMe: 'このコンピューターに記憶する',
  signIn: 'サインイン',
  signingIn: 'サインイン中…',
  signOut: 'サインアウト',
  loginFailed: 'サインインできませんでした: {message}',
  badCredentials: 'ユーザー ID またはパスワードが正しくありません。',
  sessionEnded: 'セッションが終了しました。もう一度サインインしてください。',
  myStatus: '自分の状態',
  available: '連絡可能',
  away: '離席中',
  busy: '取り込み中',
  offline: 'オフライン',
  appearOffline: 'オフライン表示',
  connection: '接続',
  online: 'オンライン',
  connecting: '接続中…',
  reconnecting: '再接続中…',
  connOffline: 'オフライン',
  modeLong: 'ライブ',
  modeInterval: '定期',
  settings: '設定',
  language: '言語',
  polling: '更新方法',
  pollingAuto: '自動',
  pollingLong: 'ライブ（接続を保持）',
  pollingInterval: '{seconds} 秒ごと（断続的な回線）',
  contacts: '連絡先',
  noContacts: '連絡先はまだありません。管理者が追加できます。',
  selectContact: '{name} を選択',
  chatWith: '{name} とチャット',
  startChat: 'チャット',
  startChatWith: '選択した {count} 人とチャットを開始',
  requestSent: '{names} にチャットの依頼を送りました。',
  presenceOf: '{name}: {state}',
  conversations: '会話',
  waiting: '応答待ち',
  unread: '未読 {count} 件',
  chatRequest: 'チャットの依頼',
  chatRequestFrom: '{name} さんがチャットを希望しています',
  chatRequestGroup: '{name} さんが {others} とのグループチャットに招待しています',
  accept: '承諾',
  decline: '辞退',
  declined: '{name} さんがチャットを辞退しました。',
  left: '{name} さんがチャットから退出しました。',
  chatClosed: 'このチャットは終了しました。',
  chatTitle: '{names} とのチャット',
  back: 'パネルに戻る',
  popOut: '別ウィンドウで開く',
  leave: '退出',
  members: 'メンバー',
  memberInvited: '招待中',
  memberAccepted: '参加中',
  memberDeclined: '辞退',
  memberLeft: '退出済み',
  messages: 'メッセージ',
  loadEarlier: '以前のメッセージを読み込む',
  beginning: '会話の始まりです。',
  typeMessage: 'メッセージ',
  typeHint: 'Enter で送信、Shift+Enter で改行',
  typePlaceholder: 'メッセージを入力…',
  send: '送信',
  sending: '送信中…',
  sent: '送信済み',
  failed: '未送信',
  retry: '再送',
  emoji: '絵文字',
  attachFile: 'ファイルを添付',
  attachments: '送るファイル',
  uploading: '{name} をアップロード中',
  uploadFailed: 'アップロードできませんでした: {message}',
  removeFile: '{name} を外す',
  download: 'ダウンロード',
  lastMessage: '最新のメッセージ',
  addEmoji: '絵文字を入れる',
  edit: '編集',
  deleteMessage: '削除',
  deleteConfirmTitle: 'メッセージの削除',
  deleteConfirm: 'このメッセージを削除しますか？元に戻せません。',
  edited: '（編集済み）',
  messageDeleted: 'このメッセージは削除されました',
  editHint: 'Enter で保存、Escape で取り消し',
  addReaction: 'リアクションを付ける',
  reactWith: '{emoji} でリアクション',
  reactedBy: '{names} が {emoji} でリアクション',
  messageActions: 'メッセージの操作',
  discard: '破棄',
  typing: '{name} が入力中…',
  typingMany: '{names} が入力中…',
  seen: '既読',
  waitingAccept: '{names} の承諾待ち',
  tooLong: '{count} 文字多すぎます',
  charsLeft: '残り {count} 文字',
  you: '自分',
  chatNotFound: 'このチャットを開けませんでした: {message}',
  signInFirst: '先に Portico パネルでサインインしてから、このチャットを開き直してください。',
  newMessageFrom: '{name} さんからの新しいメッセージ',
  ticker: 'ニュースティッカー',
  tickerEmpty: '現在ニュースはありません。',
  pause: '一時停止',
  play: '再生',
  media: 'メディア',
  mediaButtons: 'メディア欄の表示内容',
  video: '動画',
  images: '画像',
  music: '音楽',
  charts: 'グラフ',
  games: 'ゲーム',
  noVideo: '現在動画はありません。',
  noImages: '現在画像はありません。',
  noMusic: '現在音楽はありません。',
  noCharts: '現在グラフはありません。',
  noGames: '現在ゲームはありません。',
  previous: '前へ',
  next: '次へ',
  itemOf: '{count} 件中 {index} 件目',
  series: '系列',
  notices: 'お知らせ',
  noNotices: 'お知らせはありません。',
  more: '詳しく…',
  links: 'リンク',
  noLinks: 'リンクはまだありません。',
  opensExternally: '（ブラウザーで開きます）',
  error: 'エラーが発生しました: {message}',
  dismiss: '閉じる',
  call: '通話',
  callWith: '{names} とのビデオ通話',
  incomingCall: '着信',
  incomingCallFrom: '{name} さんから着信',
  callRinging: '{names} を呼び出し中…',
  callConnecting: '接続中…',
  callConnected: '{names} と通話中',
  hangUp: '終了',
  mute: 'ミュート',
  unmute: 'ミュート解除',
  cameraOff: 'カメラをオフ',
  cameraOn: 'カメラをオン',
  camera: 'カメラ',
  microphone: 'マイク',
  devices: 'デバイス',
  callPath: '接続経路: {path}',
  pathDirect: '直接',
  pathTurn: '中継 (TURN)',
  pathHttp: 'Portico サーバー経由 (HTTP)',
  selfView: '自分',
  remoteView: '{names} の映像',
  callDeclinedBy: '{name} さんが通話を拒否しました。',
  callMissedBy: '{name} さんは応答しませんでした。',
  callEndedFailed: 'どの経路でも接続できなかったため、通話を終了しました。',
  noDevices: 'カメラまたはマイクを使用できません: {message}',
  calleeOffline: '{names} さんはオフラインです。オンラインになってからおかけください。',
  calleeBusy: '{names} さんは別の通話中です。',
  callInProgress: '先に現在の通話を終了してください。',
  callLineMissed: '不在着信',
  callLineDeclined: '拒否された通話',
  callLineCompleted: '通話 {duration}',
  contactAdded: '{name} さんを連絡先に追加しました。',
  contactRemoved: '{name} さんを連絡先から削除しました。',
  offlineBanner: 'オフライン — 再接続するとメッセージを送信します',
  retryIn: '{seconds} 秒後に再試行',
  retrying: '再試行中…',
  retryNow: '今すぐ再試行',
  groupOnline: '{total} 人中 {count} 人がオンライン',
  onlineNames: 'オンライン: {names}',
  chatAction: 'チャット:',
  addPeople: 'ユーザーを追加',
  searchPeople: 'ユーザーを検索',
  searchLabel: 'ディレクトリを検索',
  searchPlaceholder: '名前またはユーザー ID',
  add: '追加',
  addName: '{name} さんを連絡先に追加',
  inContacts: '連絡先に登録済み',
  noMatches: '見つかりませんでした。',
  removeContact: '{name} さんを連絡先から削除',
  viaGroups: '{groups} 経由',
  close: '閉じる',
  tickerSettings: 'ティッカー',
  tickerChannels: '表示するチャンネルと順序',
  tickerDefault: '何も選ばないと既定のチャンネルを表示します。',
  tickerSpeed: 'スクロール速度',
  speedSlow: '遅い',
  speedNormal: '標準',
  speedFast: '速い',
  moveUp: '{name} を上へ',
  moveDown: '{name} を下へ',
  save: '保存',
  cancel: 'キャンセル',
  saved: '保存しました。',
  leaveConfirm: 'このチャットから退出しますか？以後のメッセージは届かなくなります。',
  leftLine: '{name} さんがチャットから退出しました',
  declinedLine: '{name} さんがチャットを辞退しました',
  pickChat: '相手または会話を選んでチャットを始めます。',
  jumpHint: 'Ctrl+K で相手やチャットを探せます。',
  jumpTo: '相手またはチャットへ移動',
  jumpPlaceholder: '名前を入力…',
  refreshing: '更新中…',
  loadingContacts: '連絡先を読み込み中…',
  today: '今日',
  yesterday: '昨日',
};

const dictionaries: Record<Language, Record<Key, string>> = { en, ja };
const STORAGE_KEY = 'portico.language';

export function detectLanguage(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'ja') return stored;
  } catch {
    /* no storage: fall through */
  }
  const first = typeof navigator === 'undefined' ? '' : (navigator.languages?.[0] ?? navigator.language ?? '');
  return first.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

let current: Language = detectLanguage();

export const language = () => current;

export function setLanguage(lang: Language, remember = true) {
  current = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      /* not kept: fine */
    }
  }
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = dictionaries[current][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** A list of names the way the language joins them. */
export function joinNames(names: string[]): string {
  if (current === 'ja') return names.join('、');
  if (names.length <= 2) return names.join(' and ');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The locale for dates and times: the browser's own when it speaks the panel's language. */
function locale(): string {
  const browser = typeof navigator === 'undefined' ? '' : (navigator.languages?.[0] ?? navigator.language ?? '');
  if (browser.toLowerCase().startsWith(current)) return browser;
  return current === 'ja' ? 'ja-JP' : 'en-US';
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(kind: 'time' | 'day'): Intl.DateTimeFormat {
  const key = `${locale()}:${kind}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), kind === 'time' ? { hour: 'numeric', minute: '2-digit' } : { weekday: 'short', month: 'short', day: 'numeric' });
    formats.set(key, f);
  }
  return f;
}

/** A message's time of day, one format everywhere (the day goes into day separators). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return format('time').format(d);
}

/** A day separator's label: Today, Yesterday, or the date. */
export function formatDay(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return t('today');
  if (d.toDateString() === yesterday.toDateString()) return t('yesterday');
  return format('day').format(d);
}
