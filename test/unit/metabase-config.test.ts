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

describe('the Metabase admin password', () => {
  it("is held to Metabase's rule at start: 8 characters, a letter and a digit", () => {
    for (const password of ['short1a', 'no-digits-here', '1234567890', '--------']) {
      try {
        parseConfig({ METABASE_ADMIN_PASSWORD: password });
        expect.unreachable(`${password} was accepted`);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const [problem] = (error as ConfigError).problems;
        expect(problem).toMatch(
          /^METABASE_ADMIN_PASSWORD: expected at least 8 characters with a letter and a digit/,
        );
        expect(problem).not.toContain(password);
      }
    }
    expect(parseConfig({ METABASE_ADMIN_PASSWORD: 'Provision-test-2024' })).toMatchObject({
      METABASE_ADMIN_PASSWORD: 'Provision-test-2024',
    });
  });
});
