import { create } from '@bufbuild/protobuf';
import { tasksV1 } from '@wharf/contracts';
import { InvalidArgumentError } from '@wharf/errors';
import type { SecretBox } from './secret-box';

/** The secret fields of wharf.tasks.v1.SourceCredentials. */
export type SealedCredentialField = 'git_token' | 'ssh_private_key' | 'registry_password';

/** What a credential is sealed against: "<component_id>/build:<field>". */
export function credentialContext(componentId: string, field: SealedCredentialField): string {
  return `${componentId}/build:${field}`;
}

/** Credentials as the user gave them (api-gateway seals them, the builder opens them). */
export interface PlainSourceCredentials {
  gitUsername?: string;
  gitToken?: string;
  sshPrivateKey?: string;
  sshKnownHosts?: string;
  registryUsername?: string;
  registryPassword?: string;
}

/** Seals a user's credentials for the component's spec (and so for its build tasks). */
export function sealSourceCredentials(box: SecretBox, componentId: string, plain: PlainSourceCredentials): tasksV1.SourceCredentials {
  const seal = (value: string | undefined, field: SealedCredentialField) => (value ? box.seal(value, credentialContext(componentId, field)) : new Uint8Array());
  return create(tasksV1.SourceCredentialsSchema, {
    gitUsername: plain.gitUsername ?? '',
    gitToken: seal(plain.gitToken, 'git_token'),
    sshPrivateKey: seal(plain.sshPrivateKey, 'ssh_private_key'),
    sshKnownHosts: plain.sshKnownHosts ?? '',
    registryUsername: plain.registryUsername ?? '',
    registryPassword: seal(plain.registryPassword, 'registry_password'),
  });
}

/**
 * Opens what a build task carries. A value sealed for another component or field, or with
 * another key, is refused naming the field (never its content).
 */
export function openSourceCredentials(box: SecretBox, componentId: string, sealed: tasksV1.SourceCredentials | undefined): PlainSourceCredentials {
  if (!sealed) return {};
  const open = (value: Uint8Array, field: SealedCredentialField): string | undefined => {
    if (value.length === 0) return undefined;
    try {
      return box.open(value, credentialContext(componentId, field));
    } catch {
      throw new InvalidArgumentError(
        `credentials.${field}: cannot be opened with this data center's key for component ${componentId} (sealed elsewhere or damaged)`,
        {
          field: `credentials.${field}`,
        },
      );
    }
  };
  return {
    gitUsername: sealed.gitUsername || undefined,
    gitToken: open(sealed.gitToken, 'git_token'),
    sshPrivateKey: open(sealed.sshPrivateKey, 'ssh_private_key'),
    sshKnownHosts: sealed.sshKnownHosts || undefined,
    registryUsername: sealed.registryUsername || undefined,
    registryPassword: open(sealed.registryPassword, 'registry_password'),
  };
}

/** Whether any sealed secret is present (the builder then needs the data center's key). */
export function hasSealedSecrets(sealed: tasksV1.SourceCredentials | undefined): boolean {
  return !!sealed && (sealed.gitToken.length > 0 || sealed.sshPrivateKey.length > 0 || sealed.registryPassword.length > 0);
}
