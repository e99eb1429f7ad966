import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable } from './connection-failure';

describe('isDatabaseUnavailable: "no connection could be had" (503), not "the query failed" (500)', () => {
  it.each([
    ['the pool timed out', new Error('timeout exceeded when trying to connect')],
    ['the server refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['the server shut down (fast)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['the server is shutting down', Object.assign(new Error('the database system is shutting down'), { code: '57P03' })],
    ['the connection dropped', new Error('Connection terminated unexpectedly')],
    ['too many connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
    // The server went away mid-transaction: TypeORM released its connection, the next statement says so.
    ['a transaction whose connection was lost (statement)', new QueryRunnerAlreadyReleasedError()],
    ['a transaction whose connection was lost (manager)', new QueryRunnerProviderAlreadyReleasedError()],
  ])('%s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })],
    ['a syntax error', Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })],
    ['a bug', new TypeError('cannot read properties of undefined')],
    ['nothing', undefined],
  ])('not %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
