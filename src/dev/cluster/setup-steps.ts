/**
 * The steps that make a fresh PostgreSQL and Temporal server ready for Sluice, in order, declared once: the stack
 * (`npm run stack`) runs them with the binaries it built, docker-compose.yml runs the same ones in its one-shot
 * setup services (deploy/temporal/*.sh), and test/compose.test.ts checks that both say the same.
 */

export interface SetupNames {
  temporalDatabase: string;
  visibilityDatabase: string;
  namespace: string;
  /** Namespace retention, as the temporal CLI reads it. */
  retention: string;
}

export type SetupStep =
  /** `temporal-sql-tool --plugin postgres12 <connection> <args>`; `ifCreated`: only right after create-database succeeded. */
  | { tool: 'temporal-sql-tool'; phase: 'schema'; args: string[]; ifCreated?: boolean }
  /** `temporal operator namespace create` unless `describe` finds it. */
  | { tool: 'temporal'; phase: 'namespace'; args: string[] }
  | { tool: 'sluice'; phase: 'sluice'; args: string[] };

export const DEFAULT_SETUP_NAMES: SetupNames = {
  temporalDatabase: 'temporal',
  visibilityDatabase: 'temporal_visibility',
  namespace: 'default',
  retention: '72h',
};

export function setupSteps(n: SetupNames): SetupStep[] {
  const schema = (db: string, name: string): SetupStep[] => [
    { tool: 'temporal-sql-tool', phase: 'schema', args: ['--db', db, 'create-database'] },
    { tool: 'temporal-sql-tool', phase: 'schema', args: ['--db', db, 'setup-schema', '-v', '0.0'], ifCreated: true },
    { tool: 'temporal-sql-tool', phase: 'schema', args: ['--db', db, 'update-schema', '--schema-name', `postgresql/v12/${name}`] },
  ];
  return [
    ...schema(n.temporalDatabase, 'temporal'),
    ...schema(n.visibilityDatabase, 'visibility'),
    { tool: 'temporal', phase: 'namespace', args: ['operator', 'namespace', 'create', '--namespace', n.namespace, '--retention', n.retention] },
    { tool: 'sluice', phase: 'sluice', args: ['setup'] },
  ];
}
