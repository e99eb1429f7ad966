/** Anything with TypeORM's raw `query` (DataSource, EntityManager, QueryRunner). */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<any>;
}

/**
 * The rows of a raw statement. TypeORM answers `[rows, rowCount]` for UPDATE and DELETE but plain
 * rows for everything else, which makes `UPDATE … RETURNING` easy to misread.
 */
export async function queryRows<T = Record<string, any>>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const result = await db.query(sql, parameters);
  const isUpdateResult = Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number';
  return isUpdateResult ? result[0] : result;
}
