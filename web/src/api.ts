// HTTP calls to the server's JSON API; errors carry the server's message.
export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export async function getJson<T>(route: string): Promise<T> {
  const response = await fetch(route, { headers: { Accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ApiError(body.error ?? `${route}: HTTP ${response.status}`, response.status);
  return body;
}

export async function postJson<T>(route: string, body?: unknown): Promise<T> {
  const response = await fetch(route, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const parsed = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ApiError(parsed.error ?? `${route}: HTTP ${response.status}`, response.status);
  return parsed;
}
