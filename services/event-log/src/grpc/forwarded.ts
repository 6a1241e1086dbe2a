/**
 * Metadata on a call one instance forwards to a partition's owner: the owner serves it itself
 * (forwarding again could loop while ownership moves) and does not rate-limit it again.
 */
export const FORWARDED = 'x-wharf-eventlog-forwarded';
