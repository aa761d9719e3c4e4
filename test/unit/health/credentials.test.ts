import { describe, expect, it } from 'vitest';
import { maskCredentials, maxOutputLength } from '../../../src/health/credentials.js';

describe('maskCredentials', () => {
  it('leaves text without credentials as it is, URLs without a password included', () => {
    for (const text of [
      'connect ECONNREFUSED 127.0.0.1:5432',
      'no answer from smtp://relay.internal:25 for ops@example.com',
      'GET https://api.internal:8443/v1/status failed',
      'the password is wrong', // no `=`: nothing to mask
      '?password=&user=app', // an empty value
    ]) {
      expect(maskCredentials(text)).toBe(text);
    }
  });

  it('masks to the last @ of the address, the safe side when a path holds one', () => {
    expect(maskCredentials('amqp://u:p@ss@mq/vhost@x and more')).toBe('amqp://u:[REDACTED]@x and more');
  });

  it('masks each URL of a text, and changes nothing when masking again', () => {
    const once = maskCredentials('a://u:p1@h b://:p2@h c://u:p/3@h pwd="x y" PGPASSWORD=z');
    expect(once).toBe(
      'a://u:[REDACTED]@h b://:[REDACTED]@h c://u:[REDACTED]@h pwd=[REDACTED] PGPASSWORD=[REDACTED]',
    );
    expect(maskCredentials(once)).toBe(once);
  });

  it('masks quoted password properties as JSON and util.inspect write them, not prose after a colon', () => {
    const json = JSON.stringify({ host: 'db', dbPassword: 's3cr"et', user: 'app' });
    expect(maskCredentials(`bad config ${json}`)).toBe(
      'bad config {"host":"db","dbPassword":"[REDACTED]","user":"app"}',
    );
    expect(maskCredentials('{ password: \'hunter22\', PGPASSWORD : "x" }')).toBe(
      '{ password: \'[REDACTED]\', PGPASSWORD : "[REDACTED]" }',
    );
    expect(maskCredentials('{"password":"abc')).toBe('{"password":"[REDACTED]'); // cut inside the value
    for (const text of ['password: authentication failed for user "app"', '{"password":""}']) {
      expect(maskCredentials(text)).toBe(text);
    }
    const once = maskCredentials('{"pwd":"x"}');
    expect(maskCredentials(once)).toBe(once);
  });

  it('masks the other credential fields and properties, and bearer tokens', () => {
    expect(
      maskCredentials(
        'DB_PASS=hunter22 pass=x client_secret=cs1 token=ghp_abc AWS_SECRET_ACCESS_KEY=wJalr api-key=k1',
      ),
    ).toBe(
      'DB_PASS=[REDACTED] pass=[REDACTED] client_secret=[REDACTED] token=[REDACTED] AWS_SECRET_ACCESS_KEY=[REDACTED] api-key=[REDACTED]',
    );
    expect(maskCredentials('aws_secret_access_key = wJalr')).toBe('aws_secret_access_key = [REDACTED]');
    expect(maskCredentials(JSON.stringify({ apiKey: 'sk_live_1', authToken: 't', passphrase: 'p' }))).toBe(
      '{"apiKey":"[REDACTED]","authToken":"[REDACTED]","passphrase":"[REDACTED]"}',
    );
    expect(maskCredentials('401 for Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig_-x==')).toBe(
      '401 for Authorization: Bearer [REDACTED]',
    );
    for (const text of [
      'tokens=5 secrets: none',
      'the api key is missing',
      'keys=3',
      'bypass=enabled compass=north',
      'expected a bearer token in the header',
      'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
    ]) {
      expect(maskCredentials(text)).toBe(text);
    }
    const once = maskCredentials('token=a Bearer b.c.d-ef');
    expect(once).toBe('token=[REDACTED] Bearer [REDACTED]');
    expect(maskCredentials(once)).toBe(once);
  });

  it('examines at most maxOutputLength characters, whatever the shape of the rest', () => {
    // Many `://` and user names, no `@`: each run is scanned a bounded number of times.
    const text = '://u:'.repeat(100_000);
    const result = maskCredentials(text);
    expect(result.length).toBeLessThan(maxOutputLength + 40);
    expect(result.endsWith(`… [${text.length - maxOutputLength} more characters cut]`)).toBe(true);
    expect(maskCredentials('x'.repeat(maxOutputLength))).toBe('x'.repeat(maxOutputLength));
  });
});
