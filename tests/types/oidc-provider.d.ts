// oidc-provider (a dev dependency, for tests) ships no types; the helper uses a small part of it.
declare module 'oidc-provider' {
  const Provider: new (issuer: string, configuration: Record<string, unknown>) => {
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    on(event: string, listener: (...args: any[]) => void): void;
  };
  export default Provider;
}
