/** A tenant's browser origin allow-list (settings.allowed_origins), shared by REST, CORS and the WebSocket. */
/** Anything that carries a tenant's settings (the full TenantRecord does). */
type WithOrigins = { settings: { allowed_origins?: string[] } };

const normal = (origin: string) => origin.replace(/\/+$/, '').toLowerCase();

/** Is `origin` on the list? An empty list allows every origin. */
export function originListed(tenant: WithOrigins, origin: string): boolean {
  const allowed = tenant.settings.allowed_origins ?? [];
  if (!allowed.length) return true;
  const o = normal(origin);
  return allowed.some((a) => normal(a) === o);
}

/** Browsers always send Origin; clients without one (servers, apps) are not subject to the list. */
export function originAllowed(tenant: WithOrigins, origin: string | undefined): boolean {
  return !origin || originListed(tenant, origin);
}

/**
 * A publishable key lives in browser pages: when the tenant keeps a list, the request must come
 * from a listed Origin (a request without one is refused too, so the key cannot be replayed from a
 * script that simply omits the header... as far as a header can prove anything).
 */
export function publishableOriginAllowed(tenant: WithOrigins, origin: string | undefined): boolean {
  if (!tenant.settings.allowed_origins?.length) return true;
  return Boolean(origin) && originListed(tenant, origin!);
}
