import type { Command } from 'commander';
import { runCommand } from './run-command.js';
import { serveHttp } from './serve-http.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'Run everything in one process: the HTTP API, dashboard and Bull Board, the queue workers and the sync schedule (npm start). Uses the embedded PostgreSQL when DATABASE_URL is unset.',
    )
    .action(runCommand('up', (config) => serveHttp(config, 'up', { workers: true })));
}
