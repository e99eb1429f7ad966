import type { Pool } from 'pg';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { queryRows } from './sql';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * Named ("prepared") statements for the hot paths (issue 13). TypeORM sends every query unnamed,
 * so PostgreSQL parses and plans it on every call; a named statement is parsed and planned once per
 * pooled connection and then only bound and executed. These go straight to TypeORM's own pg pool
 * (same connections, same limits and timeouts, so a saturated pool still answers 503).
 *
 * The names are global per connection: one name, one text (pg refuses a name reused with another text).
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

export function prepared(name: string, text: string): PreparedStatement {
  return { name, text: text.replace(/\s+/g, ' ').trim() };
}

export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

export async function queryPrepared<R extends Record<string, unknown> = Record<string, unknown>>(
  dataSource: DataSource,
  statement: PreparedStatement,
  values: unknown[],
): Promise<R[]> {
  const result = await poolOf(dataSource).query<R>({ name: statement.name, text: statement.text, values });
  return result.rows;
}

/**
 * `statement` on `db`, a repository's `tx`: outside a transaction (TypeORM's default manager, which
 * has no query runner of its own) as the named statement through the pool; inside one, on that
 * transaction's connection, where its text runs as is.
 */
export function queryPreparedOn<R extends Record<string, unknown> = Record<string, unknown>>(
  db: EntityManager,
  statement: PreparedStatement,
  values: unknown[],
): Promise<R[]> {
  return db.queryRunner ? queryRows<R>(db, statement.text, values) : queryPrepared<R>(db.connection, statement, values);
}

/**
 * The select list of an entity's columns under `alias`, each named `<prefix><column>`: written out
 * rather than `alias.*`, so a column another instance's migration adds later does not change a
 * prepared statement's result type under it.
 */
export function columnsOf(dataSource: DataSource, target: EntityTarget<ObjectLiteral>, alias: string, prefix: string): string {
  return columnMetadata(dataSource, target)
    .map((column) => `${alias}."${column.databaseName}" AS "${prefix}${column.databaseName}"`)
    .join(', ');
}

/** An entity from the `<prefix><column>` fields of a raw row, converted as TypeORM would (transformers included). */
export function hydrate<T extends ObjectLiteral>(dataSource: DataSource, target: new () => T, row: Record<string, unknown>, prefix: string): T {
  const entity = new target();
  for (const column of columnMetadata(dataSource, target)) {
    const value = row[`${prefix}${column.databaseName}`];
    (entity as Record<string, unknown>)[column.propertyName] =
      value === null || value === undefined ? value : dataSource.driver.prepareHydratedValue(value, column);
  }
  return entity;
}

const columnsByTarget = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, ColumnMetadata[]>>();

function columnMetadata(dataSource: DataSource, target: EntityTarget<ObjectLiteral>): ColumnMetadata[] {
  let byTarget = columnsByTarget.get(dataSource);
  if (!byTarget) columnsByTarget.set(dataSource, (byTarget = new Map()));
  let columns = byTarget.get(target);
  if (!columns) byTarget.set(target, (columns = dataSource.getMetadata(target).columns));
  return columns;
}
