import { Global, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A unit of work: repositories given one run their statements on its connection, inside it. */
export type Tx = EntityManager;

/**
 * Runs domain work in one database transaction. Every statement inside must go through `tx`:
 * asking the global pool for a second connection from inside a transaction deadlocks the pool
 * once every connection is held by such a transaction.
 */
@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Outside any transaction (each statement on its own). */
  get none(): Tx {
    return this.dataSource.manager;
  }
}

@Global()
@Module({ providers: [Transactions], exports: [Transactions] })
export class TransactionsModule {}
