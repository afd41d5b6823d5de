// What an external controller answered, made fit for a condition, an Event or a log line:
// the controller is outside VirtFlow's trust, so its words are cut short, stripped of control
// characters and of anything that looks like a credential (our own token, echoed back in an
// error, included) before VirtFlow repeats them.

/** Longest answer text repeated in a condition or an Event. */
export const maxAnswerTextLength = 256;

const REDACTED = '[redacted]';

/**
 * `text` on one line, at most `max` characters (an ellipsis says it was cut), with every
 * secret in `secrets` and every bearer or basic credential replaced by [redacted].
 */
export function answerText(text: string, secrets: readonly (string | undefined)[] = [], max = maxAnswerTextLength): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  out = out
    // No word boundary: in raw JSON an escaped newline (\\n) runs into the word.
    .replace(/(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi, `$1 ${REDACTED}`)
    .replace(/("?(?:token|password|secret|authorization)"?\s*[:=]\s*)"?[^\s",}]+"?/gi, `$1${REDACTED}`)
    // Control characters (newlines included) and the Unicode line separators.
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  if (out.length > max) out = `${out.slice(0, max - 1)}…`;
  return out;
}
