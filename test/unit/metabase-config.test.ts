import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('Metabase configuration', () => {
  it('has defaults that need nothing set', () => {
    const config = parseConfig({});
    expect(config.METABASE_DATABASE_URL).toBeUndefined();
    expect(config.METABASE_SITE_NAME).toBe('CPD Police Log');
    expect(config.METABASE_WAIT_SECONDS).toBe(300);
  });

  it('names a bad METABASE_DATABASE_URL without echoing its password', () => {
    try {
      parseConfig({
        METABASE_DATABASE_URL: 'mysql://metabase:hunter2@db/x',
        METABASE_WAIT_SECONDS: '-1',
      });
      expect.unreachable('a bad configuration was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(2);
      expect(problems.find((p) => p.startsWith('METABASE_DATABASE_URL:'))).toMatch(/PostgreSQL/);
      expect(problems.join('\n')).not.toContain('hunter2');
    }
  });
});
