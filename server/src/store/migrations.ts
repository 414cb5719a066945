/** Schema migrations, applied in order; `PRAGMA user_version` records how far a database is. */
export const MIGRATIONS: string[] = [
  // 1: accounts, sessions, contacts, groups, chats, messages, the event log
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: topics and events name users by id
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    chosen_presence TEXT NOT NULL DEFAULT 'available',
    announced_presence TEXT NOT NULL DEFAULT 'offline',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_user ON sessions(user_id);
  CREATE TABLE contacts (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, contact_id)
  ) WITHOUT ROWID;
  CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_by_user ON group_members(user_id);
  CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE chat_members (
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (chat_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX chat_members_by_user ON chat_members(user_id, status);
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    from_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    from_username TEXT NOT NULL, -- kept as it was sent, so history survives the sender's removal
    client_id TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX messages_once ON messages(chat_id, from_user_id, client_id);
  CREATE INDEX messages_by_chat ON messages(chat_id, id);
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    body TEXT NOT NULL, -- the protocol event as JSON, without its cursor
    at INTEGER NOT NULL
  );
  CREATE INDEX events_by_topic ON events(topic, seq);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `,
  // 2: portal content: channels, providers, items (ticker, notice, media), charts, user choices
  `
  CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    title TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    key_hash BLOB NOT NULL UNIQUE,
    key_sealed TEXT NOT NULL, -- the key encrypted with the server secret, to check HMAC signatures
    require_signature INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE provider_channels (
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    PRIMARY KEY (provider_id, channel_id)
  ) WITHOUT ROWID;
  CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, -- ticker, notice, media
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    provider_id INTEGER REFERENCES providers(id) ON DELETE SET NULL,
    body TEXT NOT NULL, -- the protocol item as JSON
    priority INTEGER NOT NULL DEFAULT 0,
    starts_at INTEGER,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX items_live ON items(kind, channel_id, priority DESC, id DESC);
  CREATE TABLE media_files (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE chart_points (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    series TEXT NOT NULL,
    t INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (channel_id, series, t)
  ) WITHOUT ROWID;
  CREATE TABLE chart_series (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    series TEXT NOT NULL,
    unit TEXT,
    PRIMARY KEY (channel_id, series)
  ) WITHOUT ROWID;
  CREATE TABLE user_channels (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
  ) WITHOUT ROWID;
  `,
  // 3: the terminal registry: installed clients as they report themselves at login (seat cap)
  `
  CREATE TABLE terminals (
    install_id TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL, -- who last logged in from it
    version TEXT NOT NULL,
    platform TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: calls between chat members; a chat message may record a call that ended
  `
  CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    video INTEGER NOT NULL,
    state TEXT NOT NULL, -- ringing, active, ended
    answered_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT
  );
  CREATE INDEX calls_live ON calls(created_at) WHERE state != 'ended';
  CREATE TABLE call_members (
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state TEXT NOT NULL, -- ringing, joined, declined, missed, left
    position INTEGER NOT NULL,
    PRIMARY KEY (call_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX call_members_by_user ON call_members(user_id, state);
  ALTER TABLE messages ADD COLUMN call TEXT; -- JSON {id, outcome, durationSeconds?} on a call's record line
  `,
  // 5: what a game takes on disk besides its archive (providers' storage quota)
  `
  ALTER TABLE media_files ADD COLUMN unpacked_size INTEGER NOT NULL DEFAULT 0;
  `,
  // 6: company identity: where a user comes from (local, directory, sso), directory accounts the
  // directory disabled, and groups kept by the directory sync
  `
  ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local'; -- local, directory, sso
  ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE groups ADD COLUMN source TEXT NOT NULL DEFAULT 'local'; -- local, directory
  `,
  // 7 (issue 17): a user's picture, status message and do-not-disturb; per-chat mutes, per user
  `
  ALTER TABLE users ADD COLUMN avatar TEXT; -- keyed content hash of the picture file under avatars/, NULL: initials
  ALTER TABLE users ADD COLUMN status TEXT; -- JSON {emoji?, text, until?: ms}, NULL: none
  ALTER TABLE users ADD COLUMN dnd_until INTEGER; -- ms; NULL or past: not in do-not-disturb
  ALTER TABLE users ADD COLUMN notify_mentions_when_busy INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE chat_mutes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    until INTEGER, -- ms; NULL: until unmuted
    PRIMARY KEY (user_id, chat_id)
  ) WITHOUT ROWID;
  `,
  // 8: the message lifecycle (issue 16): edits, deletions, mentions, reactions, read marks
  `
  ALTER TABLE messages ADD COLUMN edited_at INTEGER;
  ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN mentions TEXT; -- JSON array of usernames, NULL when none
  CREATE TABLE message_reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
  ) WITHOUT ROWID;
  ALTER TABLE chat_members ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0; -- a message id; only grows
  `,
  // 9: files in chats (bytes content-addressed under <dataDir>/files) and message search
  `
  CREATE TABLE chat_files (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    uploader_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    thumb_sha256 TEXT, -- images: a small WebP of it
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX chat_files_by_chat ON chat_files(chat_id);
  CREATE TABLE message_files (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    file_id TEXT NOT NULL REFERENCES chat_files(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, position)
  ) WITHOUT ROWID;
  CREATE INDEX message_files_by_file ON message_files(file_id);
  -- Search: a trigram index of the text (substrings of 3+ characters, any script); shorter terms
  -- (two-character Japanese words) are matched with LIKE among the searcher's chats. The triggers
  -- keep it right on every insert, update of the text and delete, whatever path makes them.
  CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='trigram');
  INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
  END;
  `,
  // 10: meetings with guests (issue 19): numbers, guests who knock, documents shown page by page
  `
  CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    host_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    fixed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    presentation TEXT -- JSON {documentId, page}: the page everyone shows
  );
  CREATE UNIQUE INDEX meetings_live_number ON meetings(number) WHERE ended_at IS NULL;
  CREATE INDEX meetings_by_host ON meetings(host_id);
  CREATE INDEX meetings_by_chat ON meetings(chat_id);
  CREATE TABLE meeting_numbers ( -- a host's own number that stays the same (fixed meetings)
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    number TEXT NOT NULL UNIQUE
  );
  CREATE TABLE meeting_guests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    status TEXT NOT NULL, -- knocking, admitted, rejected, ended
    presenter INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX meeting_guests_by_meeting ON meeting_guests(meeting_id, status);
  CREATE TABLE meeting_guest_messages ( -- a guest's client ids: its retries store nothing twice
    guest_id INTEGER NOT NULL REFERENCES meeting_guests(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (guest_id, client_id)
  ) WITHOUT ROWID;
  CREATE TABLE meeting_documents (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    pages TEXT NOT NULL, -- JSON [{file, width, height}]
    created_at INTEGER NOT NULL
  );
  CREATE INDEX meeting_documents_by_meeting ON meeting_documents(meeting_id);
  CREATE TABLE call_guests ( -- meeting guests in a call of their meeting's chat (users are in call_members)
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    guest_id INTEGER NOT NULL REFERENCES meeting_guests(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (call_id, guest_id)
  ) WITHOUT ROWID;
  CREATE INDEX call_guests_by_guest ON call_guests(guest_id, state);
  `,
  // 11: search indexing leaves the send path (store/search-indexer.ts): messages are indexed in
  // bulk shortly after they are stored, up to meta's fts_indexed_through; edits and deletions of
  // indexed messages keep the index right, those not indexed yet are indexed as they are then
  `
  DROP TRIGGER messages_fts_insert;
  DROP TRIGGER messages_fts_delete;
  DROP TRIGGER messages_fts_update;
  INSERT INTO meta (key, value) VALUES ('fts_indexed_through', (SELECT coalesce(max(id), 0) FROM messages))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
  -- Merged in small steps by the indexer's rounds instead of FTS5's automatic merges, which come at once.
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 0);
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_indexed_through') BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_indexed_through') BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
  END;
  `,
  // 12 (issue 18): call hold and transfer; chat messages held while a call in their chat is on hold
  `
  ALTER TABLE calls ADD COLUMN held_by INTEGER; -- the member (user id) who put the call on hold; NULL: not on hold
  ALTER TABLE calls ADD COLUMN transfer_from INTEGER; -- a transfer ringing: the transferor (user id)
  ALTER TABLE calls ADD COLUMN transfer_to INTEGER; -- ... its target (user id)
  ALTER TABLE calls ADD COLUMN transfer_reason TEXT;
  ALTER TABLE calls ADD COLUMN transfer_at INTEGER; -- when the target's ring started (its ring timeout counts from here)
  ALTER TABLE calls ADD COLUMN transfer_warm INTEGER NOT NULL DEFAULT 0; -- 1: the transferor talks to the target first
  ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0; -- 1: sent during a hold, delivered on resume
  CREATE INDEX messages_held ON messages(chat_id) WHERE held = 1;
  `,
  // 13 (issue 18): ringing people into a running call (when: their ring times out from then; by
  // whom: shown on their ring); who added a chat member; a chat's history sharing
  `
  ALTER TABLE call_members ADD COLUMN rung_at INTEGER; -- rung into a call already running: its ring counts from here
  ALTER TABLE call_members ADD COLUMN rung_by INTEGER; -- ... by this member (user id)
  ALTER TABLE chat_members ADD COLUMN added_by INTEGER; -- added to a running chat (POST /chats/:id/members) by this member
  ALTER TABLE chat_members ADD COLUMN visible_from INTEGER; -- a message id: this member reads messages after it only (chat history 'since_added'); NULL: all
  ALTER TABLE chats ADD COLUMN history TEXT NOT NULL DEFAULT 'all'; -- what members added later read: 'all' | 'since_added'
  `,
];
