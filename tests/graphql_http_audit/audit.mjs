// Runs graphql-http's server audit (the GraphQL-over-HTTP spec's MUST and SHOULD checks)
// against a running server and prints the results as JSON on stdout, one object per audit:
// {id, name, status: "ok" | "warn" | "error", reason}.
//
//   node audit.mjs http://127.0.0.1:8000/graphql
//
// AUDIT_AUTHORIZATION, when set, is sent as the Authorization header of every request (the
// audit introspects `__type`, which production servers answer for signed-in callers only).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}
const authorization = process.env.AUDIT_AUTHORIZATION;

function fetchWithAuthorization(input, init = {}) {
  const headers = new Headers(init.headers);
  if (authorization) headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithAuthorization });
const out = [];
for (const result of results) {
  out.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify(out, null, 2));
