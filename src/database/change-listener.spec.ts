import { createServer, Server, Socket } from 'node:net';
import { AppConfig } from '../config/app-config';
import { ChangeListener } from './change-listener';

/** A server that accepts TCP connections and never says anything: a database that stopped answering. */
function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

describe('ChangeListener', () => {
  it('gives up on a server that accepts but never answers, serves without caches and tries again (no start-up that hangs for good)', async () => {
    const { server, port, sockets } = await silentServer();
    const listener = new ChangeListener({ databaseUrl: `postgresql://identity:secret@127.0.0.1:${port}/identity` } as AppConfig);
    const resets: boolean[] = [];
    listener.subscribe({ changed: () => undefined, reset: (live) => resets.push(live) });
    try {
      const started = Date.now();
      await listener.onApplicationBootstrap();
      expect(Date.now() - started).toBeLessThan(ChangeListener.SETTLE_TIMEOUT_MS * 2 + 1000);
      expect(listener.isLive).toBe(false);
      expect(resets.every((live) => !live)).toBe(true);
      // A second attempt follows by itself.
      const attempts = sockets.length;
      await new Promise((resolve) => setTimeout(resolve, ChangeListener.RETRY_MIN_MS + 200));
      expect(sockets.length).toBeGreaterThan(attempts);
    } finally {
      await listener.onModuleDestroy();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  }, 15_000);
});
