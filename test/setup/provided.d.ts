// Values the global setup hands to every test file (vitest `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    /** A database of its own for this test run, migrated. */
    databaseUrl: string;
    /** The server the test database lives on (to create more throwaway databases). */
    databaseServerUrl: string;
    redisUrl: string;
    /** A Redis key and channel prefix of its own for this run. */
    redisPrefix: string;
    jwtSecret: string;
  }
}
export {};
