/** The server's parts, built once in server.ts and handed to every feature's routes. */
import type { Logger } from 'pino';
import type { Sessions } from './auth/sessions.js';
import type { RelayBuffers } from './calls/relay.js';
import type { CallService } from './calls/service.js';
import type { ServerConfig } from './config.js';
import type { Directory } from './directory/ldap.js';
import type { DirectorySync } from './directory/sync.js';
import type { EventHub } from './events/hub.js';
import type { Subscriptions } from './events/subscriptions.js';
import type { PresenceService } from './presence/service.js';
import type { ProviderGate } from './providers/cgi.js';
import type { SharedLimits } from './http/shared-limits.js';
import type { SsoClient } from './sso/oidc.js';
import type { ServerSecret } from './secrets.js';
import type { Store } from './store/store.js';

export interface Services {
  config: ServerConfig;
  log: Logger;
  store: Store;
  sessions: Sessions;
  hub: EventHub;
  /** What each user's poll listens to; tell it when that changes. */
  subscriptions: Subscriptions;
  presence: PresenceService;
  secret: ServerSecret;
  providers: ProviderGate;
  /** Rate limits and once-only keys: shared by the cluster through Redis, or this process's own. */
  limits: SharedLimits;
  calls: CallService;
  /** The HTTP relay's in-memory media (calls/relay.ts). */
  relay: RelayBuffers;
  /** The company directory (LDAP), when PORTICO_LDAP_URL is set, and its sync. */
  directory?: { client: Directory; sync: DirectorySync };
  /** Single sign-on (OpenID Connect), when PORTICO_OIDC_ISSUER is set. */
  sso?: SsoClient;
}
