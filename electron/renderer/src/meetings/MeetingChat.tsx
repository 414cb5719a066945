/** The meeting's chat, kept simple: its history, new messages as they come, a composer (text only: guests send text). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { LIMITS, type Message, type PorticoClient } from '../api/index.js';
import { newClientId } from '../api/util.js';
import { S } from './strings.js';

export function MeetingChat({ client, chatId, nameOf }: { client: PorticoClient; chatId: string; nameOf: (username: string) => string }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let alive = true;
    const put = (m: Message) => setMessages((all) => (all.some((x) => x.id === m.id) ? all.map((x) => (x.id === m.id ? m : x)) : [...all, m].sort((a, b) => a.id - b.id)));
    client.history(chatId).then(
      (h) => alive && h.messages.forEach(put),
      () => {},
    );
    const off = client.on('chat.message', (e: { message: Message }) => {
      if (e.message.chatId === chatId) put(e.message);
    });
    return () => {
      alive = false;
      off();
    };
  }, [client, chatId]);

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const send = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText('');
    setError(undefined);
    try {
      const m = await client.putMessage(chatId, newClientId(), body);
      setMessages((all) => (all.some((x) => x.id === m.id) ? all : [...all, m]));
    } catch (err) {
      setText(body);
      setError((err as Error).message);
    }
  };

  return (
    <section class="meeting-chat" aria-labelledby="meeting-chat-title">
      <h2 id="meeting-chat-title">{S.chat}</h2>
      <ol class="meeting-messages" ref={list} aria-live="polite" tabIndex={0} aria-label={S.chat}>
        {messages.length === 0 && <li class="hint">{S.noMessages}</li>}
        {messages
          .filter((m) => !m.deleted)
          .map((m) => (
            <li key={m.id} class="meeting-message" data-from={m.from}>
              <span class="meeting-message-from">{nameOf(m.from)}</span> <span class="meeting-message-text">{m.text}</span>
            </li>
          ))}
      </ol>
      <form class="meeting-composer" onSubmit={send}>
        <label class="visually-hidden" for="meeting-composer-input">
          {S.message}
        </label>
        <input id="meeting-composer-input" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={S.message} maxLength={LIMITS.messageChars} autocomplete="off" />
        <button type="submit" class="primary small">
          {S.send}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
