/** End-user sign-in (`/v1/auth/…`): from browsers with a publishable key, or servers with the tenant key. */
import { DomainError } from '../../domain/errors.ts';
import type { OperationRequest } from '../operation.ts';
import { created, ok, type HttpDeps, type OperationMap } from '../operation.ts';

/** The tenant a sign-in call is for: the publishable key's, or the API key's. */
export function signInTenant(req: OperationRequest): string {
  const tenantId = req.auth.publishable?.tenantId ?? req.auth.caller?.tenantId;
  if (!tenantId) throw new DomainError('AUTHENTICATION_ERROR');
  return tenantId;
}

export const clientOf = (req: OperationRequest) => ({ ip: req.koa.ip || 'unknown' });

export function authHandlers({ domain }: HttpDeps): OperationMap {
  return {
    registerUser: async (req) => created(await domain.accounts.register(signInTenant(req), req.body, clientOf(req))),
    loginUser: async (req) => ok(await domain.accounts.login(signInTenant(req), req.body, clientOf(req))),
    refreshToken: async (req) => ok(await domain.accounts.refresh(signInTenant(req), req.body.refresh_token, clientOf(req))),
    logout: async (req) => {
      await domain.accounts.logout(signInTenant(req), req.body.refresh_token);
      return ok({ logged_out: true });
    },
    guestLogin: async (req) => created(await domain.accounts.guest(signInTenant(req), req.body ?? {}, clientOf(req))),
    requestRoomCode: async (req) => {
      await domain.roomCodes.request(signInTenant(req), req.params.room_id, req.body.email, clientOf(req));
      return { status: 202, data: { accepted: true } };
    },
    exchangeRoomCode: async (req) => ok(await domain.roomCodes.exchange(signInTenant(req), req.params.room_id, req.body, clientOf(req))),
  };
}
