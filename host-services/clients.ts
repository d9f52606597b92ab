/**
 * Which HTTP clients inside a container honour the wiring (`HTTP(S)_PROXY`,
 * `http(s)_proxy`, `NODE_USE_ENV_PROXY`, the CA variables), which do not,
 * and a check an operator runs inside a container to see whether its
 * traffic really goes through the guardian. `setup` prints these; NanoClaw
 * integrations can show them too.
 */

/**
 * A destination no resolver will ever answer: the `.invalid` TLD, and a
 * label longer than DNS's 63 bytes, so the lookup fails on the machine that
 * makes it and no query leaves it. Through the guardian the proxy answers
 * 502 with its own text ("clawsec traffic guardian: cannot resolve host");
 * a client that bypasses the proxy just fails to resolve.
 */
export const CONTAINER_CHECK_HOST = 'clawsec-traffic-guardian-check-label-over-63-chars-so-no-dns-query.invalid';
/** Text only the guardian's 502 for that host carries (sent after authentication passed). */
export const CONTAINER_CHECK_MARKER = 'clawsec traffic guardian: cannot resolve host';
/** Text of the guardian's 407 (no or a wrong runtime credential). */
export const CONTAINER_CHECK_AUTH_MARKER = 'clawsec traffic guardian: runtime credentials required';

const OK = 'OK: traffic goes through the traffic guardian';
const AUTH = 'reached the traffic guardian, but it answered 407: the proxy URL has no or a wrong runtime token';
const NOT = 'NOT through the traffic guardian: the proxy variables are missing or wrong in this container';

export interface ContainerClient {
  client: string;
  /** Whether the wiring reaches it without code changes. */
  honours: boolean;
  how: string;
}

/** The clients an agent container typically runs, and how each takes the wiring. */
export const CONTAINER_CLIENTS: readonly ContainerClient[] = [
  { client: 'curl', honours: true, how: 'http_proxy / HTTPS_PROXY; CURL_CA_BUNDLE for inspected HTTPS' },
  { client: 'Python requests / pip', honours: true, how: 'HTTP(S)_PROXY; REQUESTS_CA_BUNDLE / SSL_CERT_FILE' },
  { client: 'git', honours: true, how: 'http_proxy / https_proxy; GIT_SSL_CAINFO' },
  { client: 'Node 22+ fetch', honours: true, how: 'HTTP(S)_PROXY with NODE_USE_ENV_PROXY=1 (set by the wiring; recent 22.x and 24+); NODE_EXTRA_CA_CERTS' },
  { client: 'Bun (NanoClaw v2 runtime) fetch', honours: true, how: 'HTTP(S)_PROXY natively; NODE_EXTRA_CA_CERTS' },
  { client: "the Claude agent's own HTTP client", honours: true, how: 'HTTPS_PROXY; NODE_EXTRA_CA_CERTS' },
  {
    client: 'Node 20 fetch (and http/https without an agent)',
    honours: false,
    how: 'ignores the proxy variables and NODE_USE_ENV_PROXY: it connects directly, around the guardian, with no error',
  },
];

/** The plain warning about Node 20. */
export const NODE20_FETCH_WARNING =
  "Node 20's fetch ignores HTTP_PROXY/HTTPS_PROXY and NODE_USE_ENV_PROXY: a Node 20 process in the container " +
  'sends its fetch() traffic directly, around the guardian, without any error, and nothing of it is inspected. ' +
  'Run Node 22+ (recent 22.x or 24+) or Bun in the image, or have that code pass an undici ProxyAgent / ' +
  'EnvHttpProxyAgent to fetch; the Node check of `traffic-guardian setup` shows which case a container is in.';

/** One shell line, run inside a container: does curl's traffic go through the guardian? */
export function containerShellCheck(): string {
  return (
    `out=$(curl -s http://${CONTAINER_CHECK_HOST}/); case "$out" in ` +
    `*'${CONTAINER_CHECK_MARKER}'*) echo '${OK}';; ` +
    `*'${CONTAINER_CHECK_AUTH_MARKER}'*) echo '${AUTH}';; ` +
    `*) echo '${NOT}';; esac`
  );
}

/** One line for a Node (or `bun -e`) process inside a container: does fetch go through the guardian? */
export function containerNodeCheck(runtime: 'node' | 'bun' = 'node'): string {
  const script =
    `fetch('http://${CONTAINER_CHECK_HOST}/').then(r=>r.text()).then(` +
    `t=>console.log(t.includes('${CONTAINER_CHECK_MARKER}')?'${OK}':t.includes('${CONTAINER_CHECK_AUTH_MARKER}')?'${AUTH}':'${NOT}'),` +
    `()=>console.log('NOT through the traffic guardian: fetch went direct (Node 20, or NODE_USE_ENV_PROXY unset)'))`;
  return `${runtime} -e "${script}"`;
}
