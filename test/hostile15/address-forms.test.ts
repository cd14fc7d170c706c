/** Hostile review: the SSRF guard's address parser over many spellings of non-public addresses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTarget, hostOf, isPublicAddress } from '../../runtime/public-address.js';

const PRIVATE_URLS = [
  'http://127.0.0.1/', 'http://127.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://0x7f.0.0.1/',
  'http://017700000001/', 'http://127.0.0.1./', 'http://0/', 'http://0.0.0.0/', 'http://[::]/', 'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/',
  'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[0:0:0:0:0:ffff:7f00:1]/', 'http://[::127.0.0.1]/', 'http://[64:ff9b::7f00:1]/',
  'http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:7f00:1::]/', 'http://[2002:a9fe:a9fe::1]/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://[fd12:3456::1]/',
  'http://[fec0::1]/', 'http://[ff02::1]/', 'http://[2001:db8::1]/', 'http://[2001::1]/', 'http://169.254.169.254/', 'http://0xa9fea9fe/', 'http://2852039166/',
  'http://10.0.0.1/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://198.18.0.1/', 'http://224.0.0.1/',
  'http://255.255.255.255/', 'http://[::ffff:a9fe:a9fe]/', 'http://[::ffff:10.0.0.1]/', 'http://localhost/', 'http://LOCALHOST./', 'http://%6c%6f%63%61%6c%68%6f%73%74/',
  'http://[0000:0000:0000:0000:0000:0000:0000:0001]/', 'http://[::0:1]/',
];
const PUBLIC_ADDRESSES = ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1'];

describe('hostile: SSRF address forms', () => {
  for (const raw of PRIVATE_URLS) {
    it(`refuses ${raw}`, async () => {
      const host = hostOf(new URL(raw));
      assert.equal(isPublicAddress(host), false, `${raw} → ${host}`);
      const check = await checkTarget(raw);
      assert.equal(check.ok, false, `${raw} → ${host}`);
    });
  }
  for (const ip of PUBLIC_ADDRESSES) it(`accepts ${ip}`, () => assert.equal(isPublicAddress(ip), true));
  it('garbage is not public', () => {
    for (const junk of ['', 'abc', '1.2.3', '::g', '[::1]', '1.2.3.4.5', '999.1.1.1', ':::', '1::2::3']) assert.equal(isPublicAddress(junk), false, junk);
  });
});
