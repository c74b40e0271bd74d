import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  server: Server;
  /** `http://host:port`, with the port actually bound (PORT=0 picks a free one). */
  url: string;
  /**
   * Stops accepting connections, lets requests in flight finish, and closes idle keep-alive
   * connections; whatever is still open after `graceMs` is cut.
   */
  close(graceMs: number): Promise<void>;
}

export async function startServer(
  app: Express,
  options: { host: string; port: number },
): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, options.host, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  // Slow clients cannot hold connections open forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host}:${port}`,
    close(graceMs) {
      closing ??= new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close((error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
