/** Sealed secrets: a box opens what it sealed; another key says so, naming what it was opening. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretBox } from '../../runtime/secrets.js';

test('a secret sealed under another SWITCHYARD_SECRET_KEY is named, with the cure', () => {
  const sealed = new SecretBox('first key').seal('ghp_token');
  assert.equal(new SecretBox('first key').open(sealed), 'ghp_token');
  assert.throws(() => new SecretBox('second key').open(sealed, 'the credential of source s1'), /the credential of source s1 was sealed with another SWITCHYARD_SECRET_KEY/);
  assert.throws(() => new SecretBox('first key').open('garbage'), /not a sealed secret/);
});
