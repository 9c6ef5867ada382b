// The local directory store against the shared BlobStore contract (the same tests run for PostgreSQL).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalDirectoryStore } from '../src/store/local-store';
import { storeContract } from './helpers/store-contract';

storeContract('LocalDirectoryStore', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-contract-'));
  return { store: new LocalDirectoryStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
});
