/** Which endpoints an event goes to: event-type patterns (`*`, `message.*`, exact) and an optional room list. */

export function typeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

export function roomMatches(roomIds: readonly string[] | null, roomId: string | null): boolean {
  return roomIds === null || (roomId !== null && roomIds.includes(roomId));
}
