import type { Provider } from '@nestjs/common';

interface Closable {
  close(): Promise<void>;
}

/**
 * A provider that closes the resource behind `token` when the application shuts down. It runs
 * in onApplicationShutdown, after every beforeApplicationShutdown hook (the ingest pipeline's
 * last flush), so stores close only once nothing needs them.
 */
export function closeOnShutdown(token: symbol): Provider {
  return {
    provide: Symbol(`close ${token.description ?? 'resource'} on shutdown`),
    inject: [token],
    useFactory: (resource: Closable) => ({
      onApplicationShutdown: () => resource.close(),
    }),
  };
}
