/**
 * The job store the configuration asks for: PostgreSQL when SLUICE_STORE is a postgres:// URL (workers on many
 * hosts), else a local directory (SLUICE_STORE_DIR, default .sluice/store). Workers and the CLI use the same one.
 *
 *   const store = createStore(loadConfig());
 *   try { ... } finally { await store.close(); }
 */
import type { StoreChoice } from '../config';
import type { BlobStore } from './blob-store';
import { LocalDirectoryStore } from './local-store';
import { PostgresStore } from './postgres-store';

/** A store with a way to let go of its connections (a no-op for a directory). */
export type ClosableBlobStore = BlobStore & { close(): Promise<void> };

export function createStore(config: { store: StoreChoice }): ClosableBlobStore {
  const choice = config.store;
  switch (choice.kind) {
    case 'postgres':
      return new PostgresStore({ connectionString: choice.url, maxConnections: choice.maxConnections });
    case 'local':
      return Object.assign(new LocalDirectoryStore(choice.dir), { close: () => Promise.resolve() });
  }
}

export { BlobNotFoundError, type BlobStore } from './blob-store';
export { LocalDirectoryStore } from './local-store';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store';
