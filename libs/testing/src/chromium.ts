import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (scripts/ensure-deps.sh installs it) driven by playwright-core: no
 * browser download, which cannot work on these machines. Without the background-networking
 * flags Chromium keeps trying hosts outside the machine.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.WHARF_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found: run scripts/ensure-deps.sh (Debian package chromium) or set WHARF_CHROMIUM`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
    ],
  });
}
