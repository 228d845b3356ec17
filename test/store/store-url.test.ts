import { describe, expect, it } from 'vitest';
import { parseStoreUrl } from '../../src/store/store-url.js';

describe('parseStoreUrl', () => {
  it.each([
    ['./data/switchboard.sqlite', { dialect: 'sqlite', filename: './data/switchboard.sqlite' }],
    ['/var/lib/switchboard.sqlite', { dialect: 'sqlite', filename: '/var/lib/switchboard.sqlite' }],
    ['sqlite:./data/x.sqlite', { dialect: 'sqlite', filename: './data/x.sqlite' }],
    ['sqlite::memory:', { dialect: 'sqlite', filename: ':memory:' }],
    ['sqlite:///tmp/x.sqlite', { dialect: 'sqlite', filename: '/tmp/x.sqlite' }],
    ['postgres://u@h:5432/db', { dialect: 'postgres', connectionString: 'postgres://u@h:5432/db' }],
    ['postgresql://u@h/db', { dialect: 'postgres', connectionString: 'postgresql://u@h/db' }],
  ])('reads %s', (url, expected) => {
    expect(parseStoreUrl(url)).toEqual(expected);
  });

  it('refuses empty URLs and unknown schemes', () => {
    expect(() => parseStoreUrl('')).toThrow(RangeError);
    expect(() => parseStoreUrl('sqlite:')).toThrow(RangeError);
    expect(() => parseStoreUrl('mysql://h/db')).toThrow(/unsupported/);
  });
});
