/**
 * What a click or button on a notification means, from its tag (the shell echoes the tag back
 * through the preload bridge's onNotificationAction): a call to take or decline, a chat request to
 * accept or decline, or a chat to open. Pure, so it is unit-tested.
 */
import type { NotificationActionEvent } from '../../preload/bridge.js';

export type NotificationRoute =
  | { kind: 'call'; callId: string; answer: 'accept' | 'decline' }
  | { kind: 'request'; chatId: string; answer: 'accept' | 'decline' }
  | { kind: 'open-chat'; chatId: string };

export function notificationRoute({ tag, action }: NotificationActionEvent): NotificationRoute | undefined {
  const call = /^call-(.+)$/.exec(tag);
  if (call) return action === 'click' ? undefined : { kind: 'call', callId: call[1]!, answer: action };
  const request = /^chat-request-(.+)$/.exec(tag);
  // A click on a request opens nothing yet (the chat is pending): the card in the panel asks.
  if (request) return action === 'click' ? undefined : { kind: 'request', chatId: request[1]!, answer: action };
  const chat = /^chat-(.+)$/.exec(tag);
  if (chat && action === 'click') return { kind: 'open-chat', chatId: chat[1]! };
  return undefined;
}
