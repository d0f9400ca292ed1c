/** Query parameter names that carry credentials (`api_key`, `access_token`, `code`, ...). */
const credentialName =
  /token|key|secret|code|state|password|passwd|signature|sig|auth|session|jwt/i;
/** Values that look like credentials whatever their parameter is called. */
const credentialValue =
  /^(mo|sk|pk|rk|whsec|lin_api|lin_oauth|ntn|secret|ghp|gho|github_pat|xox[abp])_|^eyJ[\w-]+\.[\w-]+/i;

/**
 * A request URL as it may be logged (security finding 9): the value of every query parameter
 * whose name or value looks like a credential is replaced, and any `mo_` key in the path too.
 * Clients are told to send keys in headers, but some put them in query strings anyway.
 */
export function redactUrl(url: string): string {
  // Any `mo_` key (api-keys' API_KEY_PATTERN, loosened to catch truncated ones too).
  const anyKey = /mo_[0-9A-Za-z]{20,}/g;
  const queryAt = url.indexOf('?');
  const path = (queryAt === -1 ? url : url.slice(0, queryAt)).replace(anyKey, '[Redacted]');
  if (queryAt === -1) return path;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair.replace(anyKey, '[Redacted]');
      const name = pair.slice(0, eq);
      const raw = pair.slice(eq + 1);
      let value = raw;
      try {
        value = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // Malformed escapes: judge the raw text.
      }
      const secret = credentialName.test(name) || credentialValue.test(value) || anyKey.test(value);
      anyKey.lastIndex = 0;
      return secret ? `${name}=[Redacted]` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}
