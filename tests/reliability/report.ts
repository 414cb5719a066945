/**
 * Writes docs/reliability.md from what the reliability tests measured (results/*.json):
 *   npx vitest run tests/reliability/ && npx tsx tests/reliability/report.ts
 * Every number in the document comes from those files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const load = (theme: string): any => JSON.parse(readFileSync(join(HERE, 'results', `${theme}.json`), 'utf8'));
const squid = load('proxy-squid');
const nginx = load('proxy-nginx');
const crash = load('crash');
const faults = load('client-faults');
const fuzz = load('fuzz');
const authz = load('authz');

const sum = (...xs: number[]) => xs.reduce((a, b) => a + b, 0);
const al = squid.allowlist;
const ba = squid.basicAuth;
const cut = squid.cuttingProxy;
const ch = squid.chromium;
const lp = nginx.longPolls;
const k = crash.sigkill;
const fp = fuzz.properties;
const lostTotal = sum(al.lost, ba.lost, cut.lost, lp.lost, k.lost, faults.lostAnswers.lost, faults.restartMidSend.lost, faults.clockJumps.lost);
const dupTotal = sum(al.duplicated, ba.duplicated, cut.duplicated, lp.duplicated, k.duplicated, faults.lostAnswers.duplicated, faults.restartMidSend.duplicated, faults.clockJumps.duplicated);
const checked = sum(al.messagesChecked, ba.messagesChecked, cut.messagesChecked, ch.messagesChecked, lp.messages, k.deliveriesChecked, faults.lostAnswers.deliveriesChecked, faults.restartMidSend.stored, faults.clockJumps.messages);
const dates = [squid, nginx, crash, faults, fuzz, authz].map((r) => r.measuredAt as string).sort();
const statusList = (byStatus: Record<string, number>) =>
  Object.entries(byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
const cutLine = (label: string, r: any) =>
  `| ${label} | ${r.cuts.map((c: any) => `${c.outcome === 'error' ? 'connection dropped' : `Squid's ${c.outcome} page`} after ${(c.ms / 1000).toFixed(1)} s`).join('; ')} | ${r.waitAfter} s | ${r.mode} | ${r.messages} |`;

const doc = `# Reliability: proven traversal, no loss

What \`npm test\` proves about Portico working where a browser works and losing nothing, with real
components: Debian's Squid and nginx, the server as a process killed with SIGKILL, the panel's own
API client module (\`electron/renderer/src/api/\`), Chromium. The tests are in \`tests/reliability/\`
(one file per theme); each writes what it measured to \`tests/reliability/results/<theme>.json\`, and
this page is generated from those files (\`npx tsx tests/reliability/report.ts\`). The numbers below
are from the runs of ${dates[0]!.slice(0, 10)} (${dates[0]!.slice(11, 16)}–${dates[dates.length - 1]!.slice(11, 16)} UTC).

**In total: ${checked} message deliveries checked, ${lostTotal} lost, ${dupTotal} duplicated; ${fp.requests} fuzzed requests with
${fp.serverErrors} server errors; ${authz.refusals.total} authorization attempts, all refused.**

## Through a corporate proxy: Squid (\`proxy-squid.test.ts\`)

Squid 5 from Debian on loopback, its own configuration in a temporary directory. The server runs
with TLS (\`portico cert init\` certificates). The client module gets a \`fetch\` that knows only the
proxy (undici's \`ProxyAgent\` for CONNECT, or absolute-form requests for plain HTTP), and reaches the
server as \`portico.test\`, a name only Squid can resolve (its \`hosts_file\`): a direct connection
could not have worked, and a direct \`fetch\` of that name in the test fails.

| scenario | what was checked | result |
| --- | --- | --- |
| (1) rules: CONNECT only to the HTTPS port, plain HTTP only to the plain port | CONNECT to the plain port and to :22, plain GET to the HTTPS port and to another port | ${al.deniedAttempts} denied (\`TCP_DENIED/403\` in the log) |
| (1) the panel flow over HTTPS (CONNECT) and over plain HTTP (forwarded): login, chat both ways, polls, ticker event and list, video with \`Range\` (206) | ${al.messagesChecked} message deliveries, each once and in order | ${al.lost} lost, ${al.duplicated} duplicated |
| (1) the access log | ${al.tlsTunnels} \`TCP_TUNNEL/200\` tunnels carried ${al.tlsClientRequests} HTTPS requests (${al.tlsBytesThroughTunnels} bytes); ${al.plainRequestsForwarded} log lines for ${al.plainClientRequests} plain requests of the client plus the one probe | every request went through Squid |
| (2) proxy basic auth (\`basic_ncsa_auth\`, htpasswd made with \`openssl passwd -apr1\`) | no or wrong credentials, CONNECT and plain | ${ba.refusedWithoutOrWrongCredentials} refused with 407 (and the client module gets a network error, not a Portico answer) |
| (2) the same panel flow with credentials | ${ba.authenticatedRequestsLogged} logged requests, all under the proxy user; ${ba.messagesChecked} deliveries | ${ba.lost} lost, ${ba.duplicated} duplicated |
| Chromium with \`--proxy-server\` and \`--proxy-bypass-list=<-loopback>\` (Electron's proxy stack): \`/app\` over HTTPS, sign in, accept a chat, a message each way | ${ch.tunnels} tunnels, ${ch.bytes} bytes, all to the HTTPS port; Chromium's own ${ch.browserBackgroundRequestsDenied} background requests (Google update and account services) denied by the rules | ${ch.messagesChecked} messages delivered |

**(3) A proxy that cuts held requests.** Squid itself: \`read_timeout ${cut.squidReadTimeoutSeconds} seconds\` cuts any upstream that
stays silent that long, which is exactly what a held poll is. Through a CONNECT tunnel Squid
drops the tunnel; for plain HTTP it answers its own 504 page. Squid checks its timeouts once a
second, so a cut comes roughly 3–5 s into a silent poll. No proxy of our own was needed. The client asked for ${cut.clientPollWaitSeconds} s polls (auto mode) while another user sent
a message every 500 ms:

| transport | cut held polls | wait afterwards | mode | messages, each once in order |
| --- | --- | --- | --- | --- |
${cutLine('HTTPS (CONNECT)', cut.tls)}
${cutLine('plain HTTP', cut.plain)}

After one cut and a quick probe that was answered, the client shortened its wait below the cut
and long-polled on; nothing was lost or duplicated. (Switching to interval polling after three
cuts in a row, when even the shortest wait is cut, is covered with a cutting \`fetch\` in
\`tests/integration/api-client.test.ts\`; Squid's once-a-second timer makes a cut below 2 s too
irregular to test that way.)

## Behind a buffering reverse proxy: nginx (\`proxy-nginx.test.ts\`)

nginx 1.22 from Debian with a site's usual defaults: \`proxy_buffering on\`, HTTP/1.0 to the
upstream, gzip of JSON. Empty polls with \`wait=${lp.emptyPollWaitSeconds}\` ended after ${lp.emptyPollMs.join(', ')} ms (gzip applied, JSON
intact). Three panel clients held 20 s polls; ${lp.messages} messages were sent one at a time while the
receiver's poll was held: from \`send()\` at the writer to the event at the receiver, median
${lp.sendToDeliveryMs.median} ms, at most ${lp.sendToDeliveryMs.max} ms, both legs through nginx. Every message once and in order; the
client never saw a cut and kept its 20 s wait. nginx logged ${lp.heldPollsLogged} held polls, none answered with an error (only 200s, and 499s for the polls the clients
closed when they stopped).

## Crash: SIGKILL under load (\`crash.test.ts\`)

The server runs as a child process (\`node --import tsx server/src/main.ts start\`, configured by
\`PORTICO_*\`); ${k.clients} panel clients (the real module, with its outbox) in one group chat each
send a message every 60–200 ms; the server is killed with SIGKILL ${k.kills} times at random moments
(seed ${k.seed}; \`CRASH_SEED=${k.seed}\` repeats it) and started again on the same data directory and port.

| kill | at | acknowledged before it | in outboxes, unacknowledged | down for |
| --- | --- | --- | --- | --- |
${k.killMoments.map((m: any, i: number) => `| ${i + 1} | ${(m.atMs / 1000).toFixed(1)} s | ${m.ackedBefore} | ${m.unacknowledgedAtKill} | ${(m.downMs / 1000).toFixed(1)} s |`).join('\n')}

Result: ${k.messagesSent} messages sent, ${k.stored} stored, each exactly once (${k.putAttempts} PUT attempts; ${k.messagesResentAfterAFailedAttempt} messages needed more
than one); all ${k.acknowledgedBeforeALaterKill} messages acknowledged before a kill survived it; every member received every message
exactly once and in the history's order (${k.deliveriesChecked} deliveries checked); each sender's messages in the order
sent. **${k.lost} lost, ${k.duplicated} duplicated.**

## Faults on the client's side (\`client-faults.test.ts\`)

Against a child-process server (so the test's clock can jump without moving the server's):

| fault | how | result |
| --- | --- | --- |
| Answers lost after the server committed | a TCP relay lets each request through and resets the connection when the answer starts coming back: every other message PUT, every third held poll | ${faults.lostAnswers.messageAnswersLost} message answers and ${faults.lostAnswers.pollAnswersLost} poll answers lost; ${faults.lostAnswers.messages} messages stored ${faults.lostAnswers.stored} times in all; ${faults.lostAnswers.deliveriesChecked} deliveries once and in order |
| Client restarted mid-send | stopped once after its PUT was committed but before the answer, once while its PUT was held on the wire (never reached the server); a new client on the same storage resent from the outbox | ${faults.restartMidSend.stored} messages, each stored once, delivered once, in order |
| Clock jumps | the client's \`Date.now\` jumped ${faults.clockJumps.jumpsHours.map((h: number) => `${h > 0 ? '+' : ''}${h} h`).join(', ')} while it held 3 s polls and both users sent | ${faults.clockJumps.messages} messages, all delivered once and in order; ${faults.clockJumps.resets} resets, never offline, stayed in long polling |

## Bad input (\`fuzz.test.ts\`)

fast-check (seed ${fp.seed}; \`FUZZ_SEED=<n>\` repeats a run) generated ${fp.requests} requests over the ${fp.routes} routes of
\`/api/v1/openapi.json\` plus the file, game, update, panel and operations routes: arbitrary methods
now and then, path values (anything percent-encoded, broken escapes, real names, UUIDs), query
strings, headers, content types and bodies (JSON of any shape, bytes, invalid UTF-8, forms,
broken multipart, deep arrays), without a token or with a garbage one (${fp.runs.none}), a user's (${fp.runs.user}), an
administrator's (${fp.runs.admin}) and a provider's (${fp.runs.provider}). For every request: no 5xx, errors of \`/api\` and \`/cgi\` in
the \`{error: {code, message}}\` shape, and a refused request changed nothing (row counts of every
table and the event head, read from the SQLite file before and after).

Answers: ${statusList(fp.byStatus)}. **${fp.serverErrors} server errors**; ${fp.refusedAndNothingStored} refusals, each with the database unchanged.
Accepted by chance and allowed to change data: ${[...new Set<string>(fp.acceptedByChance)].map((a) => `\`${a}\` (${fp.acceptedByChance.filter((x: string) => x === a).length}×)`).join(', ')}.

Fixed cases: JSON nested ${fuzz.fixed.deepJsonDepths.join(', ')} deep; invalid UTF-8 in the body, path and query;
Content-Lengths that lie (short, 99 999 999 999, chunked past 64 KiB: 413); provider pushes over
1 MiB as a form, multipart fields and JSON on all four push routes (${fuzz.fixed.oversizedProviderPushes}, each 413); a 100 KiB header
(431): all 4xx, nothing stored. Slow senders, a byte a second: JSON bodies (${fuzz.slowBodies.jsonClosedAfterMs.length} at once) were answered
408 and closed after ${fuzz.slowBodies.jsonClosedAfterMs.join(', ')} ms; provider form pushes (${fuzz.slowBodies.formClosedAfterMs.length}) after
${fuzz.slowBodies.formClosedAfterMs.join(', ')} ms; meanwhile other requests were answered in ${fuzz.slowBodies.othersServedMs.join(', ')} ms.

**Fixed on the way:** JSON bodies and provider form/JSON pushes had no deadline of their own, so a
slow sender (for provider pushes even before authentication, as the key may be in the form) could hold a socket and a
handler for the server-wide 15 minutes, which are sized for video uploads.
\`rawBodyWithin\` in \`server/src/http/body.ts\` now gives a JSON body (at most 64 KiB) ${fuzz.slowBodies.jsonDeadlineMs / 1000} s and a
provider push (at most 1 MiB, \`server/src/providers/cgi.ts\`) ${fuzz.slowBodies.formDeadlineMs / 1000} s, then answers 408 and closes
the connection. Multipart uploads keep the 15 minutes.

## Authorization (\`authz.test.ts\`)

${authz.refusals.total} attempts, every one refused with the error shape and nothing leaked:

| what | attempts |
| --- | --- |
| Another user's chat: read, history, send, replay their client id, accept, decline, leave; a pending or declining invitee reading or writing | ${authz.refusals.chats} |
| Presence of non-contacts: none in search results, no presence events in their polls, another user's contact list | ${authz.refusals.presence} |
| Every \`/api/v1/admin/*\` route as a non-administrator (403) and without a token (401) | ${authz.refusals.admin} |
| Provider keys: other providers' or unknown channels on every push route, key in the form, a provider key as a login, a user token as a key, a rotated key | ${authz.refusals.providers} |
| Signed media paths with a changed token or file, a truncated token, a game path for a media file | ${authz.refusals.media} |
| Expired (moved past its expiry in the database), logged-out, removed-user, malformed, empty and foreign tokens on nine routes | ${authz.refusals.tokens} |

## Running them

\`npx vitest run tests/reliability/\` (80–120 s of wall time on two shared cores; part of \`npm test\`). Squid, nginx
and Chromium come from Debian (\`apt-get install squid nginx chromium\`; \`SQUID_PATH\`, \`NGINX_PATH\`,
\`CHROMIUM_PATH\` to override). Each daemon gets its own configuration, logs and pid file in a
temporary directory, runs in the foreground in its own process group, and is killed when its test
ends (or when the test process exits). Then \`npx tsx tests/reliability/report.ts\` writes this page.
`;

writeFileSync(join(HERE, '../../docs/reliability.md'), doc);
console.log(`docs/reliability.md: ${checked} deliveries checked, ${lostTotal} lost, ${dupTotal} duplicated`);
