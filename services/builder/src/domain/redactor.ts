/**
 * Removes secret values (tokens, passwords, key material) from every line before it is
 * logged or reported: a git or registry error may echo what it was given.
 */
export class Redactor {
  private readonly secrets: string[] = [];

  /** Registers a secret; each line of a multi-line secret (an SSH key) is redacted on its own too. */
  add(secret: string | undefined): this {
    if (!secret) return this;
    const candidates = [secret, ...secret.split(/\r?\n/).map((l) => l.trim())];
    for (const s of candidates) {
      // Very short strings would redact ordinary words; such secrets are refused elsewhere.
      if (s.length >= 6 && !this.secrets.includes(s) && !/^-----(BEGIN|END) /.test(s)) this.secrets.push(s);
    }
    // Longest first, so a secret that contains another is removed whole.
    this.secrets.sort((a, b) => b.length - a.length);
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }
}
