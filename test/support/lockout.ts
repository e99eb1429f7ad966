/** The account lockout lives on the user's password credential (src/credentials/). */
export interface LockState {
  failed_count: number;
  locked_until: Date | null;
}

type Db = { query: (sql: string, params: unknown[]) => Promise<any> };

export async function lockState(db: Db, userId: string): Promise<LockState> {
  const [row] = await db.query(`SELECT failed_count, locked_until FROM credentials WHERE user_id = $1 AND type = 'password'`, [userId]);
  return row;
}

/** Sets the failure count and lock directly (instead of sleeping or failing many times). */
export async function setLock(db: Db, userId: string, failedCount: number, lockedUntilSql: string | null): Promise<void> {
  await db.query(`UPDATE credentials SET failed_count = $2, locked_until = ${lockedUntilSql ?? 'NULL'} WHERE user_id = $1 AND type = 'password'`, [
    userId,
    failedCount,
  ]);
}

/** Ends the current lock but keeps the count (the next failure doubles the lock). */
export async function expireLock(db: Db, userId: string): Promise<void> {
  await db.query(`UPDATE credentials SET locked_until = now() - interval '1 second' WHERE user_id = $1 AND type = 'password'`, [userId]);
}
