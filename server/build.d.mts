// Types of server/build.mjs (plain JavaScript: it runs before anything is compiled).
export declare const serverDist: string;
export declare const serverEntry: string;
export declare function isServerBuildStale(): string;
export declare function buildServer(options?: { quiet?: boolean }): Promise<{ entry: string }>;
