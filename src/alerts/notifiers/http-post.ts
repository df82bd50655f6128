/** The answer to one delivery attempt. */
export interface SendOutcome {
  ok: boolean;
  /** What the receiver said (status and the start of its body), or why it could not be reached. */
  detail: string;
  /** Sending the same again would get the same answer (a 4xx refusal other than 408 and 429). */
  permanent: boolean;
}

const TIMEOUT_MS = 10_000;

/**
 * POSTs a JSON body. Redirects are not followed (a public URL must not bounce a notification to
 * an internal one); only a 2xx answer counts as delivered.
 */
export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<SendOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'analytics-alerts/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = (await res.text().catch(() => '')).slice(0, 300);
    const detail = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status >= 200 && res.status < 300) return { ok: true, detail, permanent: false };
    const permanent = res.status >= 300 && res.status < 500 && res.status !== 408 && res.status !== 429;
    return { ok: false, detail: res.status >= 300 && res.status < 400 ? `${detail} (redirects are not followed)` : detail, permanent };
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return { ok: false, detail: `not reached: ${cause}`.slice(0, 300), permanent: false };
  }
}
