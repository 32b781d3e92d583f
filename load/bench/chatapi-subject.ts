export async function startChatapiSubject(): Promise<never> { throw new Error('chatapi subject: not yet'); }
