// The ceilings `npm run bench` compares the app with, each in its own process (started by run.ts):
// what the same machine does with nothing but the essential work of a scenario. Never part of the app.
//
//   fastify-hello        bare Fastify, GET / → {"hello":"world"}
//   nest-hello           Nest on Fastify, one controller, behind a global guard that reads route metadata
//   verify-query         Fastify + ES256 verify of the bearer token by kid (node:crypto) + one prepared
//                        query (session ⋈ user): the token check with a database round trip per request
//   verify-query-unnamed the same query sent unnamed (as TypeORM sends it): parsed and planned every time
//   refresh-tx           Fastify + a refresh transaction (BEGIN, lock the session, rotate, insert the new
//                        token hash, COMMIT, prepared) + an ES256 signature; the session id comes in `x-session`
//   argon2               not a server: argon2id verifies with the app's parameters and thread pool for
//                        BENCH_SECONDS, printed as JSON {perSecond}
//
// Usage: node -r ts-node/register/transpile-only bench/ceilings.ts <kind> <port>
// (DATABASE_URL for the database ones; "ready" on stdout once listening.)
import 'reflect-metadata';
import { createPublicKey, createPrivateKey, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { CanActivate, Controller, ExecutionContext, Get, Injectable, Module, SetMetadata } from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import * as argon2 from 'argon2';
import { Pool } from 'pg';
import { ARGON2_OPTIONS } from '../src/credentials/password-hasher.service';

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);

function fastify() {
  return new FastifyAdapter().getInstance();
}

async function listen(instance: ReturnType<typeof fastify>): Promise<void> {
  await instance.listen({ port, host: '127.0.0.1' });
  console.log('ready');
}

function pool(): Pool {
  return new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
}

async function keysByKid(db: Pool): Promise<Map<string, { publicKey: KeyObject; privateKey: KeyObject }>> {
  const rows = (await db.query('SELECT kid, private_key_pem FROM signing_keys')).rows as { kid: string; private_key_pem: string }[];
  return new Map(
    rows.map((row) => [row.kid, { privateKey: createPrivateKey(row.private_key_pem), publicKey: createPublicKey(createPrivateKey(row.private_key_pem)) }]),
  );
}

const LIVE_SESSION_USER = `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = $1 AND u.id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`;

async function verifyQuery(named: boolean): Promise<void> {
  const db = pool();
  const keys = await keysByKid(db);
  const app = fastify();
  app.get('/', async (request, reply) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const [header, payload, signature] = token.split('.');
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString());
    const key = keys.get(kid);
    if (
      !key ||
      !verify('sha256', Buffer.from(`${header}.${payload}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
    ) {
      return reply.code(401).send({ error: 'invalid token' });
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (claims.exp * 1000 <= Date.now()) return reply.code(401).send({ error: 'expired' });
    const values = [claims.sid, claims.sub];
    const { rows } = named ? await db.query({ name: 'ceiling_live_session_user', text: LIVE_SESSION_USER, values }) : await db.query(LIVE_SESSION_USER, values);
    return rows[0] ? rows[0] : reply.code(401).send({ error: 'revoked' });
  });
  await listen(app);
}

async function refreshTransaction(): Promise<void> {
  const db = pool();
  const [[kid, key]] = [...(await keysByKid(db)).entries()];
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid })).toString('base64url');
  const app = fastify();
  app.post('/', async (request, reply) => {
    const sessionId = String(request.headers['x-session']);
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query({
        name: 'c_lock',
        text: 'SELECT user_id, refresh_generation, created_at FROM sessions WHERE id = $1 FOR UPDATE',
        values: [sessionId],
      });
      const session = rows[0];
      if (!session) {
        await client.query('ROLLBACK');
        return reply.code(401).send({ error: 'unknown' });
      }
      const generation = session.refresh_generation + 1;
      await client.query({
        name: 'c_rotate',
        text: `UPDATE sessions SET refresh_generation = $2, rotated_at = now(), last_used_at = now(), expires_at = now() + interval '1 day' WHERE id = $1`,
        values: [sessionId, generation],
      });
      await client.query({
        name: 'c_store',
        text: 'INSERT INTO refresh_tokens (token_hash, session_id, generation) VALUES ($1, $2, $3)',
        values: [randomBytes(32), sessionId, generation],
      });
      await client.query('COMMIT');
      const now = Math.floor(Date.now() / 1000);
      const body = Buffer.from(JSON.stringify({ sub: session.user_id, sid: sessionId, role: 'user', iat: now, exp: now + 900 })).toString('base64url');
      const signature = sign('sha256', Buffer.from(`${header}.${body}`), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      return { accessToken: `${header}.${body}.${signature}`, refreshToken: randomBytes(32).toString('base64url') };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  });
  await listen(app);
}

async function nestHello(): Promise<void> {
  const IS_PUBLIC = 'public';
  @Controller()
  class HelloController {
    @Get()
    @SetMetadata(IS_PUBLIC, true)
    hello() {
      return { hello: 'world' };
    }
  }
  @Injectable()
  class Guard implements CanActivate {
    constructor(private readonly reflector: Reflector) {}
    canActivate(context: ExecutionContext): boolean {
      return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) === true;
    }
  }
  @Module({ controllers: [HelloController], providers: [{ provide: APP_GUARD, useClass: Guard }] })
  class HelloModule {}
  const app = await NestFactory.create<NestFastifyApplication>(HelloModule, new FastifyAdapter(), { logger: false });
  await app.listen(port, '127.0.0.1');
  console.log('ready');
}

async function argon2Verifies(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const hash = await argon2.hash('Bench passphrase 2026!', ARGON2_OPTIONS);
  await argon2.verify(hash, 'Bench passphrase 2026!'); // warm the pool
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await argon2.verify(hash, 'Bench passphrase 2026!');
        done++;
      }
    }),
  );
  console.log(JSON.stringify({ perSecond: done / ((performance.now() - started) / 1000), threads: Number(process.env.UV_THREADPOOL_SIZE), concurrency }));
}

async function main(): Promise<void> {
  if (kind === 'fastify-hello') {
    const app = fastify();
    app.get('/', async () => ({ hello: 'world' }));
    return listen(app);
  }
  if (kind === 'nest-hello') return nestHello();
  if (kind === 'verify-query') return verifyQuery(true);
  if (kind === 'verify-query-unnamed') return verifyQuery(false);
  if (kind === 'refresh-tx') return refreshTransaction();
  if (kind === 'argon2') return argon2Verifies();
  throw new Error(`unknown ceiling ${kind}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
