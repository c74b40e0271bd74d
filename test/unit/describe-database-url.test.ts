import { describe, expect, it } from 'vitest';
import { describeDatabaseUrl } from '../../src/db/client.js';

describe('describeDatabaseUrl', () => {
  it('names host, port, database and user, never the password', () => {
    expect(describeDatabaseUrl('postgres://app:pw@db.internal:6543/police')).toBe(
      'db.internal:6543/police as app',
    );
    expect(describeDatabaseUrl('postgresql://db/police')).toBe('db:5432/police');
  });
});
