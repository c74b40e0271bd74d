import type { Command } from 'commander';
import { runCommand } from './run-command.js';
import { serveHttp } from './serve-http.js';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'Serve the HTTP API, the dashboard and Bull Board until SIGTERM or SIGINT (run workers with cpd worker, or everything at once with cpd up)',
    )
    .action(runCommand('server', (config) => serveHttp(config, 'server', { workers: false })));
}
