/** How ID token claims become a Portico user ID and display name (server/src/sso/oidc.ts). */
import { describe, expect, it } from 'vitest';
import { displayNameFromClaims, usernameFromClaim } from '../../server/src/sso/oidc.js';

describe('single sign-on claims', () => {
  it('takes a claim that is a valid Portico ID, and nothing else', () => {
    expect(usernameFromClaim('alice', undefined)).toBe('alice');
    expect(usernameFromClaim(' j.smith-2 ', undefined)).toBe('j.smith-2');
    for (const bad of ['alice@contoso.com', 'a', 'has space', '-lead', 'x'.repeat(33), '', 42, null, undefined, ['alice']]) {
      expect(usernameFromClaim(bad, undefined), String(bad)).toBeUndefined();
    }
  });

  it("takes the configured domain off (Entra ID's UPN), and refuses other domains", () => {
    expect(usernameFromClaim('alice@contoso.com', 'contoso.com')).toBe('alice');
    expect(usernameFromClaim('Alice@CONTOSO.com', 'contoso.com')).toBe('Alice');
    expect(usernameFromClaim('alice@fabrikam.com', 'contoso.com')).toBeUndefined();
    expect(usernameFromClaim('alice@evil.contoso.com', 'contoso.com')).toBeUndefined();
    expect(usernameFromClaim('alice', 'contoso.com')).toBeUndefined();
  });

  it('makes the display name from name, else given and family name, else the ID', () => {
    expect(displayNameFromClaims({ name: ' Alice Single ' }, 'alice')).toBe('Alice Single');
    expect(displayNameFromClaims({ given_name: 'Alice', family_name: 'Single' }, 'alice')).toBe('Alice Single');
    expect(displayNameFromClaims({ name: '   ', given_name: 'Alice' }, 'alice')).toBe('Alice');
    expect(displayNameFromClaims({ name: 7 }, 'alice')).toBe('alice');
    expect([...displayNameFromClaims({ name: '名'.repeat(200) }, 'alice')]).toHaveLength(80);
  });
});
