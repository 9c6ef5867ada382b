/**
 * The job store in PostgreSQL, for workers on many hosts (SLUICE_STORE=postgres://...).
 *
 * Schema (created on first use, in `schema`, default public):
 *
 *   sluice_blobs        key (PK, collation "C"), version uuid, lines, bytes, chunks, updated_at
 *                       one row per blob: which version of its content is current
 *   sluice_blob_chunks  (key, version, seq) PK, data text
 *                       the content: consecutive lines joined by '\n', about `chunkBytes` per row
 *
 * Writes are atomic per key, like a temporary file and a rename: the chunks of a new version are inserted first
 * (short statements, no connection held while the caller's iterable produces lines), then one transaction makes the
 * version current and deletes every other version of the key. A reader never sees half a blob; an activity that
 * runs twice writes the same blob again; a write that dies leaves only unreferenced rows, removed by the key's next
 * write. Two writes of one key at once: the later commit wins; the other finds its rows gone and fails (Temporal
 * retries it).
 *
 * Reads stream through a cursor (one statement: one snapshot, so a concurrent rewrite is not seen), fetching a
 * few chunks at a time: memory stays flat in the blob's size. Cursors use their own pool, because they hold a
 * connection while the caller consumes lines and the caller may write meanwhile (plan reads the input while it
 * writes shards): with one shared pool, enough such activities would each hold a cursor and wait for a write
 * connection forever.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Pool, type PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import { BlobNotFoundError, type BlobStore } from './blob-store';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:5432/database */
  connectionString: string;
  /** Schema of the two tables (created if missing); default public. Lowercase letters, digits and '_'. */
  schema?: string;
  /** Connections this store opens at most, half of them for streaming reads; default 8, at least 2. */
  maxConnections?: number;
  /** Target size of one stored chunk; default 512 KiB. */
  chunkBytes?: number;
  /** Chunks fetched per round trip while streaming; default 4. */
  fetchChunks?: number;
  /** How long an operation waits for a connection before failing; default 60 s. */
  connectionTimeoutMs?: number;
  /** Where connection errors of idle clients are reported; default stderr. */
  log?: (line: string) => void;
}

const DEFAULT_CHUNK_BYTES = 512 * 1024;
const DEFAULT_FETCH_CHUNKS = 4;
const DEFAULT_MAX_CONNECTIONS = 8;
/** Serialises schema creation across hosts (concurrent CREATE TABLE IF NOT EXISTS can fail). */
const SCHEMA_LOCK_ID = 0x51_1c_e5_70;

export class PostgresStore implements BlobStore {
  readonly description: string;
  readonly schema: string;
  private readonly pool: Pool;
  private readonly streamPool: Pool;
  private readonly chunkBytes: number;
  private readonly fetchChunks: number;
  private readonly t: { blobs: string; chunks: string };
  private schemaReady: Promise<void> | undefined;

  constructor(o: PostgresStoreOptions) {
    this.schema = o.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) throw new Error(`Bad PostgreSQL schema name: ${this.schema}`);
    this.t = { blobs: `"${this.schema}".sluice_blobs`, chunks: `"${this.schema}".sluice_blob_chunks` };
    this.chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.fetchChunks = o.fetchChunks ?? DEFAULT_FETCH_CHUNKS;
    const max = Math.max(2, o.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    const log = o.log ?? ((line: string) => console.error(line));
    const common = {
      connectionString: o.connectionString,
      connectionTimeoutMillis: o.connectionTimeoutMs ?? 60_000,
      application_name: 'sluice-store',
    };
    this.pool = new Pool({ ...common, max: Math.floor(max / 2) });
    this.streamPool = new Pool({ ...common, max: Math.ceil(max / 2) });
    // An idle client whose connection breaks emits 'error' on its pool; unheard, it would end the process.
    for (const pool of [this.pool, this.streamPool]) {
      pool.on('error', (err) => log(`PostgreSQL store: idle connection failed: ${err.message}`));
    }
    this.description = `PostgreSQL ${describeUrl(o.connectionString)} (schema ${this.schema})`;
  }

  async writeLines(key: string, lines: AsyncIterable<string> | Iterable<string>) {
    const k = normalizeKey(key);
    await this.ready();
    const version = randomUUID();
    let chunks = 0;
    let count = 0;
    let bytes = 0;
    let open: string[] = [];
    let openBytes = 0;
    const flush = async () => {
      if (open.length === 0) return;
      await this.pool.query(`INSERT INTO ${this.t.chunks} (key, version, seq, data) VALUES ($1, $2, $3, $4)`, [
        k,
        version,
        chunks,
        open.join('\n'),
      ]);
      chunks++;
      open = [];
      openBytes = 0;
    };
    try {
      for await (const line of eachLine(lines)) {
        if (line.includes('\u0000')) throw new Error(`A line for ${k} contains a NUL character, which PostgreSQL text cannot hold`);
        const size = Buffer.byteLength(line) + 1;
        count++;
        bytes += size;
        open.push(line);
        openBytes += size;
        if (openBytes >= this.chunkBytes) await flush();
      }
      await flush();
      await this.makeCurrent(k, version, { lines: count, bytes, chunks });
    } catch (err) {
      await this.pool
        .query(`DELETE FROM ${this.t.chunks} WHERE key = $1 AND version = $2`, [k, version])
        .catch(() => undefined);
      throw err;
    }
    return { lines: count, bytes };
  }

  async *readLines(key: string): AsyncIterable<string> {
    const k = normalizeKey(key);
    await this.ready();
    const client = await this.streamPool.connect();
    // A missing blob gives no row; an empty one gives one row with data null.
    const cursor = client.query(
      new Cursor<{ data: string | null }>(
        `SELECT c.data FROM ${this.t.blobs} b
           LEFT JOIN ${this.t.chunks} c ON c.key = b.key AND c.version = b.version
          WHERE b.key = $1 ORDER BY c.seq`,
        [k],
      ),
    );
    let failed: unknown;
    try {
      let first = true;
      for (;;) {
        const rows = await cursor.read(this.fetchChunks);
        if (first && rows.length === 0) throw new BlobNotFoundError(key);
        first = false;
        if (rows.length === 0) break;
        for (const { data } of rows) {
          if (data === null) continue;
          for (const line of data.split('\n')) if (line.length > 0) yield line;
        }
      }
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) failed = err;
      throw err;
    } finally {
      // Also when the caller stops early: close the cursor and hand the connection back; after an error the
      // connection's state is unknown, so it is dropped instead.
      if (failed === undefined) {
        try {
          await cursor.close();
        } catch (err) {
          failed = err;
        }
      }
      client.release(failed !== undefined);
    }
  }

  async writeJson(key: string, value: unknown) {
    await this.writeLines(key, [JSON.stringify(value)]);
  }

  async readJson<T>(key: string): Promise<T | undefined> {
    const k = normalizeKey(key);
    await this.ready();
    const { rows } = await this.pool.query<{ data: string | null }>(
      `SELECT c.data FROM ${this.t.blobs} b
         LEFT JOIN ${this.t.chunks} c ON c.key = b.key AND c.version = b.version
        WHERE b.key = $1 ORDER BY c.seq`,
      [k],
    );
    if (rows.length === 0) return undefined;
    return JSON.parse(rows.map((r) => r.data ?? '').join('\n')) as T;
  }

  async createJsonExclusive(key: string, value: unknown): Promise<boolean> {
    const k = normalizeKey(key);
    await this.ready();
    const text = JSON.stringify(value);
    // One statement: the claim and its content appear together, and of concurrent claims exactly one inserts.
    const { rowCount } = await this.pool.query(
      `WITH claimed AS (
         INSERT INTO ${this.t.blobs} (key, version, lines, bytes, chunks) VALUES ($1, $2, 1, $3, 1)
         ON CONFLICT (key) DO NOTHING
         RETURNING key, version
       )
       INSERT INTO ${this.t.chunks} (key, version, seq, data) SELECT key, version, 0, $4 FROM claimed`,
      [k, randomUUID(), Buffer.byteLength(text) + 1, text],
    );
    return rowCount === 1;
  }

  async exists(key: string) {
    const k = normalizeKey(key);
    await this.ready();
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.t.blobs} WHERE key = $1`, [k]);
    return rowCount === 1;
  }

  async list(prefix: string): Promise<string[]> {
    await this.ready();
    const dir = prefix === '' ? '' : withSlash(normalizeKey(prefix));
    const { rows } = await this.pool.query<{ key: string }>(
      `SELECT key FROM ${this.t.blobs} WHERE key LIKE $1 ESCAPE '\\' ORDER BY key`,
      [`${escapeLike(dir)}%`],
    );
    // Sorted as JavaScript sorts (UTF-16 code units), like the local store.
    return rows.map((r) => r.key).sort();
  }

  /** Deletes the key and, like `rm -r` in the local store, every key under `key/`. */
  async delete(key: string) {
    const k = normalizeKey(key);
    await this.ready();
    const under = `${escapeLike(withSlash(k))}%`;
    await this.pool.query(
      `WITH gone AS (DELETE FROM ${this.t.blobs} WHERE key = $1 OR key LIKE $2 ESCAPE '\\')
       DELETE FROM ${this.t.chunks} WHERE key = $1 OR key LIKE $2 ESCAPE '\\'`,
      [k, under],
    );
  }

  /** Creates the schema and tables if they are missing. Called by every operation; runs once per store. */
  ready(): Promise<void> {
    this.schemaReady ??= this.createSchema().catch((err: unknown) => {
      this.schemaReady = undefined;
      throw err;
    });
    return this.schemaReady;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.streamPool.end()]);
  }

  private async createSchema() {
    const { rows } = await this.pool.query<{ blobs: string | null; chunks: string | null }>(
      'SELECT to_regclass($1) AS blobs, to_regclass($2) AS chunks',
      [this.t.blobs, this.t.chunks],
    );
    if (rows[0]?.blobs && rows[0].chunks) return;
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.t.blobs} (
        key        text COLLATE "C" PRIMARY KEY,
        version    uuid        NOT NULL,
        lines      bigint      NOT NULL,
        bytes      bigint      NOT NULL,
        chunks     integer     NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.t.chunks} (
        key     text COLLATE "C" NOT NULL,
        version uuid    NOT NULL,
        seq     integer NOT NULL,
        data    text    NOT NULL,
        PRIMARY KEY (key, version, seq)
      )`);
      await client.query(
        `COMMENT ON TABLE ${this.t.blobs} IS 'Sluice job store: one row per blob; version names its current chunks'`,
      );
      await client.query(
        `COMMENT ON TABLE ${this.t.chunks} IS 'Sluice job store: blob content, lines joined by newlines, in seq order'`,
      );
    });
  }

  /** The atomic step of a write: the new version becomes current, every other version of the key goes. */
  private async makeCurrent(key: string, version: string, size: { lines: number; bytes: number; chunks: number }) {
    await this.transaction(async (client) => {
      // The row lock taken here orders concurrent writes of one key.
      await client.query(
        `INSERT INTO ${this.t.blobs} (key, version, lines, bytes, chunks) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, lines = EXCLUDED.lines,
           bytes = EXCLUDED.bytes, chunks = EXCLUDED.chunks, updated_at = now()`,
        [key, version, size.lines, size.bytes, size.chunks],
      );
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${this.t.chunks} WHERE key = $1 AND version = $2`,
        [key, version],
      );
      if (rows[0]?.n !== size.chunks) {
        throw new Error(`A concurrent write of ${key} removed this write's content; try again`);
      }
      await client.query(`DELETE FROM ${this.t.chunks} WHERE key = $1 AND version <> $2`, [key, version]);
    });
  }

  private async transaction(work: (client: PoolClient) => Promise<void>) {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** The local store's key rules: slash-separated, normalized, never absolute or above the root. */
export function normalizeKey(key: string): string {
  const normalized = path.posix.normalize(key);
  if (normalized === '.' || normalized.startsWith('..') || path.posix.isAbsolute(normalized)) {
    throw new Error(`Bad store key: ${key}`);
  }
  return normalized;
}

/** One iteration type for both kinds of input. */
async function* eachLine(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string, void, undefined> {
  yield* lines;
}

function withSlash(key: string) {
  return key.endsWith('/') ? key : `${key}/`;
}

function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** host:port/database, without user or password. */
function describeUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get('host') || 'localhost';
    return `${host}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
