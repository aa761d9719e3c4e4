/** What a masked credential is replaced with (the log registry's `[REDACTED]`). */
const masked = '[REDACTED]';

/**
 * How much of a check's error text is examined and kept, in UTF-16 units: the rest is cut, with a
 * marker. The masking below is linear, but the text goes to the log and maybe the body on every
 * status change, and nothing reads a 1 MB driver message in a health report.
 */
export const maxOutputLength = 4_096;

/**
 * The names of fields and properties whose value is a credential, any case and after any prefix
 * (`PGPASSWORD`, `dbPassword`, `client_secret`, `aws_secret_access_key`, `authToken`, `apiKey`);
 * `pass` and `passphrase` only at the start of a word or after `_`, `-` or `.` (`DB_PASS`), so that
 * `bypass=` and `compass=` stay as they are. Longest first where one begins another (`password`
 * before `pass`). A pagination `nextToken` is masked too: the safe side.
 */
const credentialName =
  'passw(?:or)?d|pwd|(?<![a-z0-9])pass(?:phrase)?|secret|token|api[-_]?key|access[-_]?key';

/**
 * A credential field — `password=…`, `pwd=…`, `DB_PASS=…`, `token=…`, `api_key=…` (libpq
 * key=value strings, query strings, JDBC and ODBC properties, environment dumps): the value runs to
 * the closing quote when quoted, else to `&`, `;`, a quote or whitespace. Linear: every branch
 * starts with a literal, and each repetition stops at a character that cannot start another match
 * within it.
 */
const credentialField = new RegExp(
  `(${credentialName})([ \\t]*=[ \\t]*)('[^']*'?|"[^"]*"?|[^\\s&;'"]*)`,
  'gi',
);

/**
 * A quoted credential property, as `JSON.stringify` (`"password":"…"`, `"apiKey":"…"`) and
 * `util.inspect` (`password: '…'`) write an object holding one: the quoted value is masked, its
 * quotes kept. An unquoted value after a colon is left alone, so prose (`password: authentication
 * failed`) stays readable. Linear like {@link credentialField}.
 */
const credentialProperty = new RegExp(
  `(${credentialName})(["']?[ \\t]*:[ \\t]*)("(?:[^"\\\\\\n]|\\\\.)*"?|'(?:[^'\\\\\\n]|\\\\.)*'?)`,
  'gi',
);

/**
 * A bearer token (`Authorization: Bearer eyJ…`): a token of 8 characters or more that ends the word
 * is masked; prose (`a bearer token`) and a challenge's parameters (`Bearer realm="api"`) are not.
 */
const bearerToken = /\b(bearer)([ \t]+)([A-Za-z0-9._~+/-]{8,}=*)(?=$|[\s,;])/gi;

/** Whether `text` may hold a credential the patterns above mask: one cheap test before three. */
const mayHoldCredential = /pass|pwd|secret|token|key|bearer/i;

/** True for the characters that end a URL's user name (`[\s:/@]`). */
function endsUser(code: number): boolean {
  return code === 0x3a || code === 0x2f || code === 0x40 || isSpace(code);
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x2028 || code === 0x2029
  );
}

/**
 * `text` with the password of every URL masked: in `scheme://user:pass@host`, everything from the
 * colon after the user name to the last `@` before the next whitespace, so a password holding `@` or
 * `/` (unencoded, as people write them) is masked whole; a URL path that holds an `@` is masked too,
 * which is the safe side. With `cut`, the text was cut after its end: a password that runs to the end
 * without its `@` is masked to the end, as the `@` may lie past the cut.
 *
 * Linear in `text`: it looks for `://` (not for a scheme at every word start, which made the former
 * regular expression quadratic), and each run of non-whitespace is scanned a bounded number of times.
 */
function maskUrlPasswords(text: string, cut: boolean): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf('://'); at !== -1; ) {
    let colon = at + 3;
    while (colon < text.length && !endsUser(text.charCodeAt(colon))) colon++;
    if (text.charCodeAt(colon) !== 0x3a) {
      at = text.indexOf('://', colon);
      continue;
    }
    let end = colon + 1;
    let lastAt = -1;
    for (
      let code = text.charCodeAt(end);
      end < text.length && !isSpace(code);
      code = text.charCodeAt(++end)
    ) {
      if (code === 0x40) lastAt = end;
    }
    if (lastAt !== -1) {
      out += `${text.slice(from, colon + 1)}${masked}`;
      from = lastAt;
      at = text.indexOf('://', lastAt);
    } else if (cut && end === text.length) {
      out += `${text.slice(from, colon + 1)}${masked}`;
      from = end;
      break;
    } else {
      // No `@` after this colon in the run: no later `://` of the run has one either.
      at = text.indexOf('://', end);
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * `text` with the credentials it quotes masked — the password of a URL (`postgres://app:…@db`),
 * credential fields (`password=`, `pwd=`, `DB_PASS=`, `token=`, `api_key=`, …), quoted credential
 * properties (`"password":"…"`, `"apiKey":"…"`) and bearer tokens — and
 * cut after {@link maxOutputLength} characters, with a marker saying how many were left out. In bounded time: some 4 KB are examined, however long the
 * text. A masked password stays masked when masked again (only the cut is not idempotent).
 */
export function maskCredentials(text: string): string {
  const cut = text.length > maxOutputLength;
  const kept = cut ? text.slice(0, maxOutputLength) : text;
  let result = maskUrlPasswords(kept, cut);
  if (mayHoldCredential.test(result)) {
    result = result
      .replace(credentialField, (_match, key: string, equals: string, value: string) =>
        value === '' ? `${key}${equals}` : `${key}${equals}${masked}`,
      )
      .replace(credentialProperty, (match: string, key: string, colon: string, value: string) => {
        const quote = value[0]!;
        const closed = value.length >= 2 && value.endsWith(quote);
        if (value.length === (closed ? 2 : 1)) return match; // empty
        return `${key}${colon}${quote}${masked}${closed ? quote : ''}`;
      })
      .replace(bearerToken, `$1$2${masked}`);
  }
  return cut ? `${result}… [${text.length - maxOutputLength} more characters cut]` : result;
}
