/**
 * The widget's guest path (`/embed.html?room=…&pk=<publishable key>&invite=<code>[&name=]`): with
 * no credential from the host page, enter as a guest with the tenant's publishable key (guestLogin;
 * the request's Origin is this page's, the service's own, which the tenant must list), join the
 * room with the invite (joinRoom), and hand back the guest's token.
 */
export type GuestResult = { token: string } | { unavailable: true } | { error: string };

interface Envelope<T> { success: boolean; data: T; error: { message: string } | null }

async function post<T>(path: string, headers: Record<string, string>, body: object): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

export async function enterAsGuest(publishableKey: string, invite: string, name: string): Promise<GuestResult> {
  const entered = await post<{ access_token: { token: string } }>('/v1/auth/guest', { 'X-Publishable-Key': publishableKey }, name ? { display_name: name } : {});
  // NOT_FOUND: the tenant has the guest flow off; 401: the key is unknown or not usable from here.
  if (entered.status === 404 || entered.status === 401) return { unavailable: true };
  if (!entered.body.success) return { error: entered.body.error?.message ?? `HTTP ${entered.status}` };
  const token = entered.body.data.access_token.token;
  if (invite) {
    const joined = await post<unknown>(`/v1/invites/${encodeURIComponent(invite)}/join`, { Authorization: `Bearer ${token}` }, {});
    if (!joined.body.success) return { error: `Could not join the room: ${joined.body.error?.message ?? joined.status}` };
  }
  return { token };
}
